/**
 * Turns a NetworkRequest into a Network: checks it against the networks that exist and makes the
 * choices the user left open (subnet from the pools, gateway, MTU). Pure: the caller supplies
 * the id, the time, the existing networks and the host's routes.
 */
import { TnetError } from '../errors.js';
import { chooseSubnet } from '../ipam/pools.js';
import { cidrsOverlap, parseCidr } from './cidr.js';
import { bridgeNameFor } from './names.js';
import { checkSubnetRequest, defaultGateway, type SubnetRequest } from './subnet-config.js';
import { DEFAULT_MTU, type IpFamily, type Network, type NetworkRequest, type SubnetConfig } from './types.js';

export interface ResolveContext {
  readonly id: string;
  /** ISO time of creation. */
  readonly now: string;
  readonly existing: readonly Network[];
  /** CIDRs of routes on the host, excluding default routes. */
  readonly hostRoutes: readonly string[];
}

const subnetsOf = (networks: readonly Network[], family: IpFamily): Array<{ network: Network; subnet: string }> =>
  networks.flatMap((network) => {
    const cfg = family === 4 ? network.ipv4 : network.ipv6;
    return cfg === undefined ? [] : [{ network, subnet: cfg.subnet }];
  });

const resolveFamily = (family: IpFamily, req: SubnetRequest, ctx: ResolveContext, name: string): SubnetConfig => {
  const checked = checkSubnetRequest(family, req, family === 4 ? 'ipv4' : 'ipv6');
  const others = subnetsOf(ctx.existing, family);
  let subnet = checked.subnet;
  if (subnet === undefined) {
    subnet = chooseSubnet(family, [...others.map((o) => o.subnet), ...ctx.hostRoutes]);
  } else {
    const wanted = parseCidr(subnet);
    const clash = others.find((o) => cidrsOverlap(wanted, o.subnet));
    if (clash !== undefined) {
      throw new TnetError(
        'conflict',
        `subnet ${subnet} of network "${name}" overlaps network "${clash.network.name}" (${clash.subnet}); choose a subnet that does not overlap`,
        { op: 'create network', target: name },
      );
    }
  }
  return {
    subnet,
    gateway: checked.gateway ?? defaultGateway(subnet),
    ...(checked.ipRange === undefined ? {} : { ipRange: checked.ipRange }),
  };
};

// Docker allows one network of each of these drivers: a second would be the same thing again.
const SINGLETON_DRIVERS = ['host', 'none'] as const;

export const resolveNetwork = (req: NetworkRequest, ctx: ResolveContext): Network => {
  const op = { op: 'create network', target: req.name };
  if (ctx.existing.some((n) => n.name === req.name)) {
    throw new TnetError('exists', `network "${req.name}" already exists; choose another name or remove it first`, op);
  }
  const base = {
    id: ctx.id,
    name: req.name,
    driver: req.driver,
    labels: req.labels ?? {},
    created: ctx.now,
  };
  if (req.driver !== 'bridge') {
    const twin = SINGLETON_DRIVERS.includes(req.driver) ? ctx.existing.find((n) => n.driver === req.driver) : undefined;
    if (twin !== undefined) {
      throw new TnetError('conflict', `only one network with driver "${req.driver}" is allowed; network "${twin.name}" already is one`, op);
    }
    return { ...base, internal: false, mtu: DEFAULT_MTU, options: {} };
  }
  const options = req.options ?? {};
  const bridge = bridgeNameFor({ id: ctx.id, options });
  const sameBridge = ctx.existing.find((n) => n.driver === 'bridge' && bridgeNameFor(n) === bridge);
  if (sameBridge !== undefined) {
    throw new TnetError('conflict', `bridge name ${bridge} is already used by network "${sameBridge.name}"; choose another bridge.name`, op);
  }
  return {
    ...base,
    ipv4: resolveFamily(4, req.ipv4 ?? {}, ctx, req.name),
    ...(req.ipv6 === undefined ? {} : { ipv6: resolveFamily(6, req.ipv6, ctx, req.name) }),
    internal: req.internal ?? false,
    mtu: req.mtu ?? DEFAULT_MTU,
    options,
  };
};
