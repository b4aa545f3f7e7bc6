import { disconnect } from '../../service/endpoints.js';
import { optionalString } from '../args.js';
import { printJson, type CliCommand } from '../command.js';
import { describeEndpoint } from './connect.js';

export const disconnectCommand: CliCommand = {
  command: 'disconnect <network>',
  describe: 'Disconnect a network namespace from a network and free its addresses',
  builder: (y) =>
    y.positional('network', { type: 'string' }).option('netns', { type: 'string', demandOption: true, describe: 'Namespace: a path, a name under /run/netns, or a PID' }),
  run: async (args, env) => {
    const { ctx } = await env.app();
    const endpoint = await disconnect(ctx, String(optionalString(args, 'network')), String(optionalString(args, 'netns')));
    if (env.json) printJson(env, endpoint);
    else env.io.out(`disconnected ${describeEndpoint(endpoint)}`);
    return 0;
  },
};
