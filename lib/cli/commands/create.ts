import { TnetError } from '../../errors.js';
import { parseCidr } from '../../model/cidr.js';
import { parseLabels, parseNetworkRequest } from '../../model/network-request.js';
import { createNetwork } from '../../service/networks.js';
import { DRIVER_KINDS, type Network } from '../../model/types.js';
import { defined, flag, optionalString, stringList, type Args } from '../args.js';
import { printJson, type CliCommand } from '../command.js';

/** --subnet/--gateway/--ip-range may each be given once per family, as with Docker. */
const byFamily = (values: readonly string[]): { v4?: string; v6?: string } => {
  const out: { v4?: string; v6?: string } = {};
  for (const v of values) {
    let six = false;
    try {
      six = parseCidr(v.includes('/') ? v : `${v}/${v.includes(':') ? 128 : 32}`).family === 6;
    } catch {
      six = v.includes(':'); // let the request parser report the bad value with its field name
    }
    if (six) out.v6 = v;
    else out.v4 = v;
  }
  return out;
};

/** `-o bridge.name=x` → { 'bridge.name': 'x' }; parseNetworkRequest then validates names and values. */
const driverOptions = (list: readonly string[]): Record<string, string> =>
  Object.fromEntries(list.map((kv) => {
    const i = kv.indexOf('=');
    return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
  }));

export const describeSubnets = (n: Network): string =>
  [n.ipv4?.subnet, n.ipv6?.subnet].filter((s) => s !== undefined).join(', ') || '-';

export const createCommand: CliCommand = {
  command: 'create <name>',
  describe: 'Create a network',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'Network name' })
      .option('driver', { alias: 'd', type: 'string', choices: [...DRIVER_KINDS], default: 'bridge', describe: 'Driver' })
      .option('subnet', { type: 'string', describe: 'Subnet in CIDR form (one IPv4 and/or one IPv6); picked from the default pools when absent' })
      .option('gateway', { type: 'string', describe: 'Gateway address inside the subnet (default: its first address)' })
      .option('ip-range', { type: 'string', describe: 'Allocate container addresses only from this sub-range' })
      .option('ipv6', { type: 'boolean', default: false, describe: 'Enable IPv6 (a ULA /64 is picked when no IPv6 --subnet is given)' })
      .option('internal', { type: 'boolean', default: false, describe: 'No way in or out of the network' })
      .option('mtu', { type: 'number', describe: 'MTU of the bridge and container interfaces (default 1500; overlay: the underlay\'s MTU minus 50)' })
      .option('vni', { type: 'number', describe: 'overlay: VXLAN network identifier, 1-16777215 (default: the lowest free from 256)' })
      .option('opt', { alias: 'o', type: 'string', describe: 'Driver option, e.g. bridge.name=br-web' })
      .option('label', { type: 'string', describe: 'Label key=value' })
      .option('dns', { type: 'boolean', default: true, describe: 'Containers resolve each other by name through tnet\'s DNS server on the gateway (--dns=false: no DNS server, no resolv.conf)' })
      .example('$0 create --driver bridge web', 'a bridge network on a free subnet')
      .example('$0 create --subnet 10.20.0.0/24 --ipv6 --subnet fd00:20::/64 dual', 'dual-stack')
      .example('$0 --store etcd://h1:2379 create --driver overlay --subnet 10.40.0.0/24 ov', 'a network across hosts'),
  run: async (args: Args, env) => {
    const subnets = byFamily(stringList(args, 'subnet'));
    const gateways = byFamily(stringList(args, 'gateway'));
    const ranges = byFamily(stringList(args, 'ip-range'));
    const ipv6Wanted = flag(args, 'ipv6') || subnets.v6 !== undefined;
    for (const [option, given] of [['--gateway', gateways.v6], ['--ip-range', ranges.v6]] as const) {
      if (given !== undefined && !ipv6Wanted) {
        throw new TnetError('invalidInput', `${option} ${given} is an IPv6 value, but the network has no IPv6; add --ipv6 and an IPv6 --subnet, or give an IPv4 value`, { target: given });
      }
    }
    const v4 = defined({ subnet: subnets.v4, gateway: gateways.v4, ipRange: ranges.v4 });
    const v6 = defined({ subnet: subnets.v6, gateway: gateways.v6, ipRange: ranges.v6 });
    const opts = stringList(args, 'opt');
    const labels = stringList(args, 'label');
    const request = parseNetworkRequest(
      defined({
        name: optionalString(args, 'name'),
        driver: optionalString(args, 'driver'),
        ipv4: Object.keys(v4).length > 0 ? v4 : undefined,
        ipv6: ipv6Wanted ? v6 : undefined,
        internal: flag(args, 'internal') ? true : undefined,
        mtu: args['mtu'],
        vni: args['vni'],
        options: opts.length > 0 ? driverOptions(opts) : undefined,
        labels: labels.length > 0 ? parseLabels(labels) : undefined,
        dnsEnabled: args['dns'] === false ? false : undefined,
      }),
      'create',
    );
    const { ctx } = await env.app();
    const network = await createNetwork(ctx, request);
    if (env.json) printJson(env, network);
    else {
      if (request.driver !== 'host' && request.driver !== 'none' && (request.ipv4?.subnet === undefined || (request.ipv6 && request.ipv6.subnet === undefined))) {
        env.io.err(`picked subnet ${describeSubnets(network)} for ${network.name}`);
      }
      env.io.out(network.id);
    }
    return 0;
  },
};
