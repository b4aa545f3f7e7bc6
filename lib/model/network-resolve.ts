/**
 * Turns a NetworkRequest into a Network: checks it against the networks that exist and makes the
 * choices the user left open (subnet from the pools, gateway, MTU). Pure: the caller supplies
 * the id, the time, the existing networks and the host's routes.
 */
import { TnetError } from '../errors.js';
import { chooseSubnet } from '../ipam/pools.js';
import { cidrsOverlap, parseCidr } from './cidr.js';
import { bridgeNameFor } from './names.js';
import { MTU_MIN_IPV6 } from './network-request.js';
import { checkSubnetRequest, defaultGateway, type SubnetRequest } from './subnet-config.js';
import { DEFAULT_MTU, VNI_MAX, type IpFamily, type Network, type NetworkRequest, type SubnetConfig } from './types.js';

export interface ResolveContext {
  readonly id: string;
  /** ISO time of creation. */
  readonly now: string;
  readonly existing: readonly Network[];
  /** CIDRs of routes on the host, excluding default routes. */
  readonly hostRoutes: readonly string[];
  /**
   * For overlay networks: the underlay link carrying this host's VTEP address and its MTU; absent
   * when the host has not joined a cluster (then an overlay cannot be created here).
   */
  readonly underlay?: { readonly link: string; readonly mtu: number };
}

/** Outer Ethernet (14) + IPv4 (20) + UDP (8) + VXLAN (8) headers around every overlay frame. */
export const VXLAN_OVERHEAD = 50;
/** The first VNI tnet hands out when none is asked for (low ones are often taken by hand-made VXLANs). */
export const FIRST_AUTO_VNI = 256;

const subnetsOf = (networks: readonly Network[], family: IpFamily): Array<{ network: Network; subnet: string }> =>
  networks.flatMap((network) => {
    const cfg = family === 4 ? network.ipv4 : network.ipv6;
    return cfg === undefined ? [] : [{ network, subnet: cfg.subnet }];
  });

const resolveFamily = (family: IpFamily, req: SubnetRequest, ctx: ResolveContext, name: string, avoidRoutes = false): SubnetConfig => {
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
    // An overlay spans hosts: a subnet this host already routes elsewhere would be unreachable here.
    const routed = avoidRoutes ? ctx.hostRoutes.find((r) => cidrsOverlap(wanted, r)) : undefined;
    if (routed !== undefined) {
      throw new TnetError('conflict', `subnet ${subnet} of overlay network "${name}" overlaps ${routed}, which this host already routes; choose a subnet that does not overlap`, {
        op: 'create network',
        target: name,
      });
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
    ...(req.dnsEnabled === false ? { dnsEnabled: false } : {}),
  };
  if (req.driver === 'overlay') return resolveOverlay(req, ctx, base);
  if (req.driver !== 'bridge') {
    const twin = SINGLETON_DRIVERS.includes(req.driver) ? ctx.existing.find((n) => n.driver === req.driver) : undefined;
    if (twin !== undefined) {
      throw new TnetError('conflict', `only one network with driver "${req.driver}" is allowed; network "${twin.name}" already is one`, op);
    }
    return { ...base, internal: false, mtu: DEFAULT_MTU, options: {} };
  }
  const options = req.options ?? {};
  const bridge = bridgeNameFor({ id: ctx.id, options });
  const sameBridge = ctx.existing.find((n) => (n.driver === 'bridge' || n.driver === 'overlay') && bridgeNameFor(n) === bridge);
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

const resolveOverlay = (req: NetworkRequest, ctx: ResolveContext, base: Pick<Network, 'id' | 'name' | 'driver' | 'labels' | 'created' | 'dnsEnabled'>): Network => {
  const op = { op: 'create network', target: req.name };
  if (ctx.underlay === undefined) {
    throw new TnetError('invalidInput', `overlay network "${req.name}" needs this host to be part of a cluster first: run 'tnet host join --vtep ADDRESS' (or give host: in an apply spec for static peers)`, op);
  }
  const { link, mtu: underlayMtu } = ctx.underlay;
  const largest = underlayMtu - VXLAN_OVERHEAD;
  if (req.mtu !== undefined && req.mtu > largest) {
    throw new TnetError('invalidInput', `MTU ${req.mtu} is too large for overlay network "${req.name}": the underlay link ${link} has MTU ${underlayMtu} and VXLAN adds ${VXLAN_OVERHEAD} bytes, so at most ${largest} (outer packets are never fragmented)`, op);
  }
  const mtu = req.mtu ?? largest;
  // Parsing checks a given MTU against IPv6's minimum; one derived from a small underlay can fall below it too.
  if (req.ipv6 !== undefined && mtu < MTU_MIN_IPV6) {
    throw new TnetError('invalidInput', `overlay network "${req.name}" would get MTU ${mtu} (the underlay link ${link} has MTU ${underlayMtu}, minus ${VXLAN_OVERHEAD} for VXLAN), too small for IPv6, which needs at least ${MTU_MIN_IPV6}`, op);
  }
  const taken = new Map(ctx.existing.flatMap((n) => (n.overlay ? [[n.overlay.vni, n.name] as const] : [])));
  const owner = req.vni === undefined ? undefined : taken.get(req.vni);
  if (owner !== undefined) throw new TnetError('conflict', `VNI ${req.vni} is already used by overlay network "${owner}"; choose another --vni`, op);
  let vni = req.vni ?? FIRST_AUTO_VNI;
  while (taken.has(vni)) vni++;
  if (vni > VNI_MAX) throw new TnetError('exhausted', `no free VNI from ${FIRST_AUTO_VNI} to ${VNI_MAX}`, op);
  const options = req.options ?? {};
  const bridge = bridgeNameFor({ id: ctx.id, options });
  const sameBridge = ctx.existing.find((n) => n.driver !== 'host' && n.driver !== 'none' && bridgeNameFor(n) === bridge);
  if (sameBridge !== undefined) {
    throw new TnetError('conflict', `bridge name ${bridge} is already used by network "${sameBridge.name}"; choose another bridge.name`, op);
  }
  return {
    ...base,
    ipv4: resolveFamily(4, req.ipv4 ?? {}, ctx, req.name, true),
    ...(req.ipv6 === undefined ? {} : { ipv6: resolveFamily(6, req.ipv6, ctx, req.name, true) }),
    internal: req.internal ?? false,
    mtu,
    options,
    overlay: { vni },
  };
};
