import { parseEndpointRequest } from '../../model/endpoint-request.js';
import { connect } from '../../service/endpoints.js';
import { formatPortMapping } from '../../model/ports.js';
import type { Endpoint } from '../../model/types.js';
import { defined, optionalString, stringList } from '../args.js';
import { printJson, type CliCommand } from '../command.js';

export const describeEndpoint = (e: Endpoint): string =>
  `${e.netns} on ${e.network} as ${e.ifname}${e.name === undefined ? '' : ` (name ${e.name})`}: ${[e.ipv4, e.ipv6].filter((a) => a !== undefined).join(', ') || 'no address'} (mac ${e.mac})` +
  ((e.ports?.length ?? 0) > 0 ? `, publishing ${(e.ports ?? []).map(formatPortMapping).join(', ')}` : '');

export const connectCommand: CliCommand = {
  command: 'connect <network>',
  describe: 'Connect a network namespace to a network',
  builder: (y) =>
    y
      .positional('network', { type: 'string' })
      .option('netns', { type: 'string', demandOption: true, describe: 'Namespace: a path, a name under /run/netns, or a PID' })
      .option('ip', { type: 'string', describe: 'IPv4 address (default: the next free one)' })
      .option('ip6', { type: 'string', describe: 'IPv6 address (default: the next free one)' })
      .option('ifname', { type: 'string', describe: 'Interface name inside the namespace (default eth0, eth1, …)' })
      .option('mac', { type: 'string', describe: 'MAC address (default: derived from the endpoint)' })
      .option('name', { type: 'string', describe: 'DNS name on the network, unique there (default: the namespace\'s name under /run/netns)' })
      .option('alias', { type: 'string', describe: 'Another DNS name on the network; several endpoints may share one (repeatable)' })
      .option('publish', { alias: 'p', type: 'string', describe: 'Publish a port: [HOST_IP:]HOST_PORT[-END]:CONTAINER_PORT[-END][/tcp|udp|sctp] (repeatable)' })
      .example('$0 connect web --netns c1', 'attach /run/netns/c1'),
  run: async (args, env) => {
    const aliases = stringList(args, 'alias');
    const ports = stringList(args, 'publish');
    const request = parseEndpointRequest(
      defined({
        network: optionalString(args, 'network'),
        netns: optionalString(args, 'netns'),
        ip: optionalString(args, 'ip'),
        ip6: optionalString(args, 'ip6'),
        ifname: optionalString(args, 'ifname'),
        mac: optionalString(args, 'mac'),
        name: optionalString(args, 'name'),
        aliases: aliases.length > 0 ? aliases : undefined,
        ports: ports.length > 0 ? ports : undefined,
      }),
      'connect',
    );
    const { ctx } = await env.app();
    const endpoint = await connect(ctx, request);
    if (env.json) printJson(env, endpoint);
    else env.io.out(`connected ${describeEndpoint(endpoint)}`);
    return 0;
  },
};
