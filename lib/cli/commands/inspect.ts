import { inspectNetworks } from '../../service/inspect.js';
import { stringList } from '../args.js';
import { printJson, type CliCommand } from '../command.js';

export const inspectCommand: CliCommand = {
  command: 'inspect <names..>',
  describe: 'Show networks in detail: configuration, endpoints (IP, MAC, netns) and kernel objects (JSON)',
  builder: (y) => y.positional('names', { type: 'string', array: true }),
  run: async (args, env) => {
    const { ctx } = await env.app();
    printJson(env, await inspectNetworks(ctx, stringList(args, 'names')));
    return 0;
  },
};
