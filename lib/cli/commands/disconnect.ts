import { disconnect } from '../../service/endpoints.js';
import { optionalString } from '../args.js';
import { printJson, type CliCommand } from '../command.js';
import { endpointRefArg, withEndpointOptions } from '../endpoint-options.js';
import { describeEndpoint } from './connect.js';

export const disconnectCommand: CliCommand = {
  command: 'disconnect <network>',
  describe: 'Disconnect a network namespace (or a runtime\'s container) from a network and free its addresses',
  builder: (y) =>
    withEndpointOptions(y.positional('network', { type: 'string' }))
      .example('$0 disconnect web --netns c1', 'what `tnet connect web --netns c1` attached')
      .example('$0 disconnect web --container 3f2a9c', 'a container Podman attached, by its short id'),
  run: async (args, env) => {
    const ref = endpointRefArg(args);
    const { ctx } = await env.app();
    const endpoint = await disconnect(ctx, String(optionalString(args, 'network')), ref);
    if (env.json) printJson(env, endpoint);
    else env.io.out(`disconnected ${describeEndpoint(endpoint)}`);
    return 0;
  },
};
