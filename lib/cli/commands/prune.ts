import { pruneNetworks } from '../../service/networks.js';
import { printJson, type CliCommand } from '../command.js';

export const pruneCommand: CliCommand = {
  command: 'prune',
  describe: 'Remove all networks that have no endpoints',
  builder: (y) => y,
  run: async (_args, env) => {
    const { ctx } = await env.app();
    const removed = await pruneNetworks(ctx);
    if (env.json) printJson(env, { removed });
    else env.io.out(removed.length === 0 ? 'nothing to prune' : `Deleted networks:\n${removed.join('\n')}`);
    return 0;
  },
};
