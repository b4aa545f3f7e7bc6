import { removeNetworks } from '../../service/networks.js';
import { flag, stringList } from '../args.js';
import { printJson, type CliCommand } from '../command.js';

export const rmCommand: CliCommand = {
  command: 'rm <names..>',
  aliases: ['remove'],
  describe: 'Remove networks (refused while endpoints are attached, unless --force)',
  builder: (y) =>
    y.positional('names', { type: 'string', array: true }).option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Disconnect attached endpoints first' }),
  run: async (args, env) => {
    const names = stringList(args, 'names');
    const { ctx } = await env.app();
    await removeNetworks(ctx, names, flag(args, 'force'));
    if (env.json) printJson(env, { removed: names });
    else env.io.out(names.join('\n'));
    return 0;
  },
};
