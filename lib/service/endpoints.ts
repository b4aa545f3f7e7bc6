/** Attaching and detaching namespaces: record the endpoint, reconcile it, undo both on failure. */
import { driverFor } from '../drivers/registry.js';
import { isTnetError, TnetError } from '../errors.js';
import { allocateAddress } from '../ipam/allocate.js';
import { isSameNetns } from '../kernel/netns-identity.js';
import { selectByContainer, type EndpointRef } from '../model/endpoint-ref.js';
import { defaultNameOfNetns, nameClash } from '../model/dns-name.js';
import { validateEndpointAgainstNetwork } from '../model/endpoint-request.js';
import { endpointIdFor, macFor, validateIfname } from '../model/names.js';
import { netnsPath } from '../kernel/netns.js';
import type { Endpoint, EndpointOwner, EndpointRequest, IpFamily, Network } from '../model/types.js';
import type { ServiceContext } from './context.js';
import { requireSelf } from './cluster.js';
import { samePorts } from '../model/ports.js';
import { checkPorts } from './ports.js';
import { loadHostRecords, loadSettledRecords, NETWORKS_ONLY, syncHost, type HostRecords } from './sync.js';

/**
 * Opens the namespace to prove it exists and to learn its canonical path. A driver that builds
 * interfaces of its own needs a namespace of its own: given the host's, it would put the
 * container's interface, address and default route on the host itself.
 */
const resolveNetns = (ctx: ServiceContext, network: Network, ref: string): string => {
  const handle = ctx.kernel.openNetns(ref);
  try {
    const shared = isSameNetns(handle, ctx.kernel.hostNetns);
    if (!driverFor(network.driver).allowsSeparateNetns && !shared) {
      throw new TnetError('invalidInput',
        `network ${network.name} uses the ${network.driver} driver: its containers share the host's own network namespace, so ${ref} cannot be connected to it; run the container in the host namespace instead`,
        { target: ref });
    }
    if (driverFor(network.driver).hasIpam && shared) {
      throw new TnetError('invalidInput',
        `${ref} is the host's own network namespace; an endpoint of ${network.driver} network ${network.name} needs a namespace of its own (the host would get the container's interface and default route)`,
        { target: ref });
    }
    return handle.path;
  } finally {
    handle.close();
  }
};

const FIRST_ROUTE_METRIC = 100;

/** Like Docker: eth0 for the first network of a namespace, then eth1, eth2… */
const nextIfname = (taken: ReadonlySet<string>): string => {
  for (let i = 0; ; i++) if (!taken.has(`eth${i}`)) return `eth${i}`;
};

const allocate = (network: Network, family: IpFamily, peers: readonly Endpoint[], requested: string | undefined): string | undefined => {
  const cfg = family === 4 ? network.ipv4 : network.ipv6;
  if (cfg === undefined || !driverFor(network.driver).hasIpam) return undefined;
  const taken = new Set(peers.flatMap((e) => [e.ipv4, e.ipv6].filter((a): a is string => a !== undefined)));
  return allocateAddress(cfg, family, taken, requested);
};

export const connectLocked = async (ctx: ServiceContext, request: EndpointRequest, owner: EndpointOwner): Promise<Endpoint> => {
  // Everything the pass below needs, read once and at once (each read is a round trip to a shared
  // store); the host lock keeps this host's records from changing underneath.
  let records = await loadSettledRecords(ctx);
  const network = records.networks.find((n) => n.name === request.network) ?? (await ctx.repo.requireNetwork(request.network));
  validateEndpointAgainstNetwork(request, network);
  // A runtime that places the container side itself (Docker) finds it parked in the host namespace.
  const handover = owner.kind === 'docker';
  const netns = handover ? ctx.kernel.hostNetns.path : resolveNetns(ctx, network, request.netns);
  const sameOwner = JSON.stringify(owner);
  const already = records.endpoints.find(handover ? (e) => JSON.stringify(e.owner) === sameOwner : (e) => e.network === network.name && e.netns === netns);
  if (already !== undefined) {
    if (already.phase !== 'creating') {
      throw new TnetError('exists', `${netns} is already connected to network ${network.name} (as ${already.ifname})`, { target: netns });
    }
    // An earlier connect of this namespace was interrupted: the same request finishes it, another
    // one replaces it (it was never reported as done).
    if (sameRequest(already, request, owner)) return finishCreation(ctx, already);
    await removeEndpointsLocked(ctx, [already]);
    records = await loadHostRecords(ctx);
  }
  const all = records.endpoints;
  const peers = all.filter((e) => e.network === network.name);
  const inNetns = all.filter((e) => e.netns === netns);
  const ifname = request.ifname ?? nextIfname(new Set(inNetns.map((e) => e.ifname)));
  validateIfname(ifname, 'interface name');
  const sameIfname = inNetns.find((e) => e.ifname === ifname);
  if (sameIfname) throw new TnetError('conflict', `${netns} already has ${ifname} from network ${sameIfname.network}; choose another --ifname`, { target: ifname });

  // A runtime's namespace name (netns-<uuid>) means nothing to anyone: runtimes give names themselves.
  const name = request.name ?? (owner.kind === 'cli' ? defaultNameOfNetns(netns) : undefined);
  const aliases = request.aliases ?? [];
  const clash = nameClash({ ...(name === undefined ? {} : { name }), aliases }, peers, network.name);
  if (clash !== undefined) throw new TnetError('conflict', clash, { target: name ?? aliases.join(',') });

  const id = endpointIdFor(network.id, netns, ifname);
  const self = network.driver === 'overlay' ? requireSelf(ctx, `connecting to overlay network ${network.name}`) : ctx.identity?.get();
  const build = (taken: readonly Endpoint[]): Endpoint => {
    const ipv4 = allocate(network, 4, taken, request.ipv4);
    const ipv6 = allocate(network, 6, taken, request.ipv6);
    return {
      id,
      network: network.name,
      netns,
      ifname,
      ...(ipv4 === undefined ? {} : { ipv4 }),
      ...(ipv6 === undefined ? {} : { ipv6 }),
      mac: request.mac ?? macFor(id),
      ...(name === undefined ? {} : { name }),
      aliases,
      // Docker routes through its gateway endpoint with metric 0; tnet repairs that route as it is.
      routeMetric: handover ? 0 : inNetns.length === 0 ? FIRST_ROUTE_METRIC : Math.max(...inNetns.map((e) => e.routeMetric)) + 1,
      owner,
      ...(handover ? { handover: { state: 'parked' as const, parkedName: ifname } } : {}),
      ...(request.ports === undefined || request.ports.length === 0 ? {} : { ports: request.ports }),
      ...(self === undefined ? {} : { host: self.name }),
      // A runtime's ADD is idempotent by container id: retried, it finishes the attachment it
      // finds, so it needs no mark (and saves a store write on the path that runtimes wait on).
      // A CLI connect of a namespace already connected must tell "interrupted" from "done"; a
      // Docker endpoint left so is one whose CreateEndpoint died with the daemon (docker/recover.ts).
      ...(owner.kind === 'cni' ? {} : { phase: 'creating' as const }),
    };
  };
  const { endpoint, retried } = await recordWithRetry(ctx, build, (e) => checkPorts(ctx, network, e), peers, request);
  // After a lost race for an address the list is stale (another host added an endpoint): re-read.
  return finishCreation(ctx, endpoint, retried ? undefined : { ...records, endpoints: [...all, endpoint] });
};

/** Whether an interrupted connect asked for what this request asks (unset = tnet's choice then). */
const sameRequest = (e: Endpoint, request: EndpointRequest, owner: EndpointOwner): boolean =>
  JSON.stringify(e.owner) === JSON.stringify(owner) &&
  (request.ifname === undefined || request.ifname === e.ifname) &&
  (request.ipv4 === undefined || request.ipv4 === e.ipv4) &&
  (request.ipv6 === undefined || request.ipv6 === e.ipv6) &&
  (request.mac === undefined || request.mac === e.mac) &&
  (request.name === undefined || request.name === e.name) &&
  JSON.stringify(request.aliases ?? []) === JSON.stringify(e.aliases) &&
  samePorts(request.ports ?? [], e.ports ?? []);

/**
 * Builds the kernel side of an endpoint recorded as being created, then records it as done. If
 * the pass fails, the endpoint is taken down again (no partial state) and the error reported.
 */
const finishCreation = async (ctx: ServiceContext, endpoint: Endpoint, records?: HostRecords): Promise<Endpoint> => {
  try {
    await syncHost(ctx, { scope: { endpoints: new Set([endpoint.id]) } }, records);
  } catch (e) {
    await removeEndpointsLocked(ctx, [endpoint]).catch(() => undefined); // the pass's error is the one to report
    throw e;
  }
  if (endpoint.phase === undefined) return endpoint;
  const { phase: _created, ...done } = endpoint;
  await ctx.repo.rewrite({ endpoints: [done] });
  return done;
};

/**
 * With a shared store another host may take the address we picked between our read and our
 * write; the reservation key's create-if-absent makes that commit fail, and we pick again from a
 * fresh list. An address the user asked for is not retried: it is simply taken.
 */
const RECORD_ATTEMPTS = 8;
const recordWithRetry = async (
  ctx: ServiceContext,
  build: (taken: readonly Endpoint[]) => Endpoint,
  check: (endpoint: Endpoint) => Promise<void>,
  first: readonly Endpoint[],
  request: EndpointRequest,
): Promise<{ endpoint: Endpoint; retried: boolean }> => {
  let taken = first;
  for (let attempt = 1; ; attempt++) {
    const endpoint = build(taken);
    await check(endpoint);
    try {
      await ctx.repo.addEndpoint(endpoint);
      return { endpoint, retried: attempt > 1 };
    } catch (e) {
      const fixed = request.ipv4 !== undefined || request.ipv6 !== undefined;
      if (!isTnetError(e, 'conflict') || fixed || attempt >= RECORD_ATTEMPTS) throw e;
      taken = await ctx.repo.listEndpoints(endpoint.network);
      if (taken.some((t) => t.id === endpoint.id)) throw e;
    }
  }
};

export const connect = (ctx: ServiceContext, request: EndpointRequest, owner: EndpointOwner = { kind: 'cli' }): Promise<Endpoint> =>
  ctx.repo.withHostLock(() => connectLocked(ctx, request, owner));

/** Finds the endpoint of a namespace on a network; the namespace itself may already be gone. */
export const findEndpoint = async (ctx: ServiceContext, networkName: string, ref: EndpointRef): Promise<Endpoint> => {
  await ctx.repo.requireNetwork(networkName);
  const endpoints = await ctx.repo.listEndpoints(networkName);
  if ('container' in ref) return selectByContainer(endpoints, ref.container, networkName);
  const path = netnsPath(ref.netns);
  const found = endpoints.find((e) => e.netns === path);
  if (!found) throw new TnetError('notFound', `${ref.netns} is not connected to network ${networkName}`, { target: ref.netns });
  return found;
};

/**
 * Takes endpoints down: each is recorded as being removed first, so its addresses stay reserved
 * and its forwards stay known until the pass has deleted its veth and forwards; the pass then
 * forgets the record. Killed anywhere in between, the next operation finishes the removal.
 */
export const removeEndpointsLocked = async (ctx: ServiceContext, endpoints: readonly Endpoint[]): Promise<void> => {
  await markRemovingLocked(ctx, endpoints);
  await syncHost(ctx, { scope: NETWORKS_ONLY });
};

/**
 * The first half of removeEndpointsLocked: from here on every pass takes them down, whoever runs
 * it, so a caller may answer before the kernel work is done (docker/driver-endpoints.ts DeleteEndpoint).
 */
export const markRemovingLocked = async (ctx: ServiceContext, endpoints: readonly Endpoint[]): Promise<void> => {
  const marking = endpoints.filter((e) => e.phase !== 'removing').map((e): Endpoint => ({ ...e, phase: 'removing' }));
  if (marking.length > 0) await ctx.repo.rewrite({ endpoints: marking });
};

export const disconnect = (ctx: ServiceContext, networkName: string, ref: EndpointRef): Promise<Endpoint> =>
  ctx.repo.withHostLock(async () => {
    const endpoint = await findEndpoint(ctx, networkName, ref);
    await removeEndpointsLocked(ctx, [endpoint]);
    const { phase: _removed, ...removed } = endpoint;
    return removed;
  });
