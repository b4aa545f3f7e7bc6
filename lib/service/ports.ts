/**
 * Published ports of an endpoint: checks against the host and every other endpoint (all before
 * anything is written), then record + reconcile; a failed pass restores the previous record, and
 * the pass itself is atomic for the firewall (one nft transaction).
 */
import { TnetError } from '../errors.js';
import { forwardsOf, type PortForward } from '../firewall/forwards.js';
import { describeEndpointRef, type EndpointRef } from '../model/endpoint-ref.js';
import { checkCanPublish } from '../model/endpoint-request.js';
import { describeHostSide, sameHostSide, sameMapping } from '../model/ports.js';
import type { Endpoint, Network, PortMapping } from '../model/types.js';
import type { ServiceContext } from './context.js';
import { findEndpoint } from './endpoints.js';
import { loadSettledRecords, syncHost } from './sync.js';

const UNSPECIFIED = new Set(['0.0.0.0', '::']);
const overlaps = (a: PortForward, b: PortForward): boolean =>
  a.family === b.family && a.protocol === b.protocol && a.hostPort === b.hostPort &&
  (a.hostIp === undefined || b.hostIp === undefined || a.hostIp === b.hostIp);

/**
 * Everything that can be wrong with an endpoint's ports, found before anything is applied: the
 * network cannot publish, a host address the endpoint has no family for or the host does not
 * have, a host port another endpoint already publishes (named).
 */
export const checkPorts = async (ctx: ServiceContext, network: Network, endpoint: Endpoint): Promise<void> => {
  const ports = endpoint.ports ?? [];
  if (ports.length === 0) return;
  checkCanPublish(network, 'ports');
  let hostAddresses: Set<string> | undefined;
  for (const m of ports) {
    if (m.hostIp === undefined || UNSPECIFIED.has(m.hostIp)) continue;
    const v6 = m.hostIp.includes(':');
    if ((v6 ? endpoint.ipv6 : endpoint.ipv4) === undefined) {
      throw new TnetError('invalidInput', `${describeHostSide(m)}: the endpoint has no IPv${v6 ? 6 : 4} address to forward to${v6 ? '; create the network with --ipv6' : ''}`, { target: m.hostIp });
    }
    if (m.hostIp === '::1') {
      throw new TnetError('invalidInput', `${describeHostSide(m)}: IPv6 loopback cannot be forwarded to a container (Linux has no route_localnet for IPv6); use 127.0.0.1 or another address`, { target: m.hostIp });
    }
    hostAddresses ??= new Set((await ctx.kernel.host.listAddresses()).map((a) => a.address));
    if (!hostAddresses.has(m.hostIp)) {
      throw new TnetError('invalidInput', `${describeHostSide(m)}: the host has no address ${m.hostIp}; give one of its addresses, or none for all of them`, { target: m.hostIp });
    }
  }
  const mine = forwardsOf(network, endpoint);
  const networks = await ctx.repo.listNetworks();
  for (const other of await ctx.repo.listEndpoints()) {
    if (other.id === endpoint.id || other.phase === 'removing' || (other.ports?.length ?? 0) === 0) continue;
    const otherNet = networks.find((n) => n.name === other.network);
    if (otherNet === undefined) continue;
    for (const theirs of forwardsOf(otherNet, other)) {
      const clash = mine.find((f) => overlaps(f, theirs));
      if (clash) {
        throw new TnetError('conflict', `${describeHostSide(clash)} (IPv${clash.family}) is already published by endpoint ${other.netns} on network ${other.network} (${describeHostSide(theirs)})`, { target: String(clash.hostPort) });
      }
    }
  }
};

/**
 * Records new ports and reconciles only this endpoint. Mappings it stops publishing are recorded
 * as releasing until the pass has deleted their forwards, so none outlives its record; if the
 * pass fails, the previous ports come back (and the new ones are released). For callers holding
 * the host lock.
 */
export const setPortsLocked = async (ctx: ServiceContext, old: Endpoint, ports: readonly PortMapping[]): Promise<Endpoint> => {
  await loadSettledRecords(ctx);
  const network = await ctx.repo.requireNetwork(old.network);
  const current = old.ports ?? [];
  const updated = withPorts(old, ports, current.filter((m) => !ports.some((p) => sameMapping(p, m))));
  await checkPorts(ctx, network, updated);
  await ctx.repo.rewrite({ endpoints: [updated] });
  try {
    await syncHost(ctx, { scope: { endpoints: new Set([old.id]) } });
  } catch (e) {
    await ctx.repo.rewrite({ endpoints: [withPorts(old, current, ports.filter((p) => !current.some((m) => sameMapping(p, m))))] });
    await syncHost(ctx, { scope: { endpoints: new Set([old.id]) } }).catch(() => undefined); // the first error is the one to report
    throw e;
  }
  return withPorts(old, ports, []);
};

/** An endpoint record with these ports, releasing these (with what it was releasing already). */
const withPorts = (e: Endpoint, ports: readonly PortMapping[], releasing: readonly PortMapping[]): Endpoint => {
  const { ports: _old, releasing: _pending, ...rest } = e;
  const all = [...(e.releasing ?? []), ...releasing].filter((m, i, list) => list.findIndex((n) => sameMapping(m, n)) === i);
  return { ...rest, ...(ports.length === 0 ? {} : { ports }), ...(all.length === 0 ? {} : { releasing: all }) };
};

/** Adds mappings; one already published the same way is kept (a retried publish converges). */
export const publishPorts = (ctx: ServiceContext, networkName: string, ref: EndpointRef, add: readonly PortMapping[]): Promise<Endpoint> =>
  ctx.repo.withHostLock(async () => {
    const endpoint = await findEndpoint(ctx, networkName, ref);
    const current = endpoint.ports ?? [];
    const changed = add.find((m) => current.some((c) => sameHostSide(c, m) && !sameMapping(c, m)));
    if (changed) throw new TnetError('conflict', `${describeHostSide(changed)} is already published by this endpoint to another port; unpublish it first to change it`, { target: String(changed.hostPort) });
    return setPortsLocked(ctx, endpoint, [...current, ...add.filter((m) => !current.some((c) => sameMapping(c, m)))]);
  });

/**
 * Removes the given mappings (matched by host side), or all of them when none are given. A
 * mapping still being released (an interrupted unpublish) counts as published: the retry finishes it.
 */
export const unpublishPorts = (ctx: ServiceContext, networkName: string, ref: EndpointRef, remove: readonly PortMapping[]): Promise<Endpoint> =>
  ctx.repo.withHostLock(async () => {
    const endpoint = await findEndpoint(ctx, networkName, ref);
    const current = endpoint.ports ?? [];
    const known = [...current, ...(endpoint.releasing ?? [])];
    const missing = remove.find((m) => !known.some((c) => sameHostSide(c, m)));
    if (missing) throw new TnetError('notFound', `${describeHostSide(missing)} is not published by ${describeEndpointRef(ref)} on network ${networkName}`, { target: String(missing.hostPort) });
    return setPortsLocked(ctx, endpoint, remove.length === 0 ? [] : current.filter((c) => !remove.some((m) => sameHostSide(c, m))));
  });
