import { TnetError } from '../../errors.js';
import { parsePortList, formatPortMapping } from '../../model/ports.js';
import type { Endpoint } from '../../model/types.js';
import { findEndpoint } from '../../service/endpoints.js';
import { publishPorts, unpublishPorts } from '../../service/ports.js';
import { optionalString, stringList } from '../args.js';
import { printJson, type CliCommand } from '../command.js';
import { endpointRefArg, withEndpointOptions } from '../endpoint-options.js';
import { table } from '../io.js';

const ACTIONS = ['publish', 'unpublish', 'ls'] as const;

const rows = (e: Endpoint): string[][] =>
  (e.ports ?? []).map((m) => [m.hostIp ?? '*', String(m.hostPort), `${e.ipv4 ?? e.ipv6 ?? '-'}:${m.containerPort}`, m.protocol]);

export const portCommand: CliCommand = {
  command: 'port <action> <network>',
  describe: 'Publish, unpublish or list the published ports of a connected namespace',
  builder: (y) =>
    withEndpointOptions(y.positional('action', { type: 'string', choices: ACTIONS }).positional('network', { type: 'string' }))
      .option('publish', { alias: 'p', type: 'string', describe: '[HOST_IP:]HOST_PORT[-END]:CONTAINER_PORT[-END][/tcp|udp|sctp] (repeatable; unpublish without -p removes all)' })
      .example('$0 port publish web --netns c1 -p 8080:80 -p 127.0.0.1:5353:53/udp', 'publish two ports'),
  run: async (args, env) => {
    const action = String(optionalString(args, 'action'));
    const network = String(optionalString(args, 'network'));
    const ref = endpointRefArg(args);
    const ports = parsePortList(stringList(args, 'publish'), '--publish');
    const { ctx } = await env.app();
    let endpoint: Endpoint;
    if (action === 'publish') {
      if (ports.length === 0) throw new TnetError('invalidInput', '--publish: give at least one port mapping, e.g. -p 8080:80');
      endpoint = await publishPorts(ctx, network, ref, ports);
    } else if (action === 'unpublish') endpoint = await unpublishPorts(ctx, network, ref, ports);
    else endpoint = await findEndpoint(ctx, network, ref);
    if (env.json) printJson(env, (endpoint.ports ?? []).map((m) => ({ ...m, mapping: formatPortMapping(m) })));
    else if (action === 'ls') env.io.out(table(['HOST IP', 'HOST PORT', 'CONTAINER', 'PROTO'], rows(endpoint)));
    else env.io.out(`${action === 'publish' ? 'published' : 'unpublished'}; ${endpoint.netns} on ${network} now publishes ${(endpoint.ports ?? []).map(formatPortMapping).join(', ') || 'nothing'}`);
    return 0;
  },
};
