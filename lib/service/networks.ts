/**
 * Network operations: each records desired state, then reconciles; a failure undoes both. A
 * network is recorded as being created until its kernel side is built, and as being removed until
 * its kernel side is gone, so an operation killed half-way is finished by the next one.
 */
import { TnetError } from '../errors.js';
import { networkMismatch } from '../model/network-fit.js';
import { resolveNetwork } from '../model/network-resolve.js';
import type { Network, NetworkRequest } from '../model/types.js';
import type { ServiceContext } from './context.js';
import { underlayOf } from './cluster.js';
import { loadSettledRecords, NETWORKS_ONLY, syncHost } from './sync.js';

const withUnderlay = (underlay: { link: string; mtu: number } | undefined) => (underlay === undefined ? {} : { underlay });

const DEFAULT_ROUTES = new Set(['0.0.0.0/0', '::/0']);

/** Subnets already routed on this host: an automatically chosen subnet must not shadow them. */
export const hostRoutes = async (ctx: ServiceContext): Promise<string[]> => {
  const routes = [...(await ctx.kernel.host.listRoutes(4)), ...(await ctx.kernel.host.listRoutes(6))];
  return routes.map((r) => r.destination).filter((d) => !DEFAULT_ROUTES.has(d) && !d.startsWith('fe80:'));
};

/** Creates a network without taking the host lock; for callers that already hold it. */
export const createNetworkLocked = async (ctx: ServiceContext, request: NetworkRequest): Promise<Network> => {
  let { networks, endpoints } = await loadSettledRecords(ctx);
  const interrupted = networks.find((n) => n.name === request.name && n.phase === 'creating');
  if (interrupted !== undefined) {
    // An earlier create of this name was killed before it finished: the same request finishes
    // it; another one replaces it, unless containers were attached to it meanwhile.
    const mismatch = networkMismatch(request, interrupted);
    if (mismatch.length === 0) return finishCreation(ctx, interrupted);
    const attached = endpoints.filter((e) => e.network === interrupted.name);
    if (attached.length > 0) {
      throw new TnetError('conflict', `network "${request.name}" exists (its creation was interrupted) with other settings: ${mismatch.join('; ')}; ${attached.length} endpoint(s) use it, so it is not replaced: run the first create again, or remove it`, { target: request.name });
    }
    await removeNetworkLocked(ctx, interrupted.name, true);
    networks = networks.filter((n) => n !== interrupted);
  }
  const network: Network = {
    ...resolveNetwork(request, {
      id: ctx.newId(),
      now: ctx.now().toISOString(),
      existing: networks,
      hostRoutes: await hostRoutes(ctx),
      ...(request.driver === 'overlay' ? withUnderlay(await underlayOf(ctx)) : {}),
    }),
    phase: 'creating',
  };
  await ctx.repo.createNetwork(network);
  return finishCreation(ctx, network);
};

/** Builds a network recorded as being created and records it as done; takes it down again on failure. */
const finishCreation = async (ctx: ServiceContext, network: Network): Promise<Network> => {
  try {
    await syncHost(ctx, { scope: NETWORKS_ONLY });
  } catch (e) {
    await removeNetworkLocked(ctx, network.name, true).catch(() => undefined); // the pass's error is the one to report
    throw e;
  }
  const { phase: _created, ...done } = network;
  await ctx.repo.rewrite({ networks: [done] });
  return done;
};

export const createNetwork = (ctx: ServiceContext, request: NetworkRequest): Promise<Network> =>
  ctx.repo.withHostLock(() => createNetworkLocked(ctx, request));

/**
 * Removes a network; refuses while endpoints are attached unless force, which detaches them. The
 * network is recorded as being removed first, so its subnet and addresses stay taken until every
 * link, address and forward of it is gone; the pass then forgets it and everything under it.
 */
export const removeNetworkLocked = async (ctx: ServiceContext, name: string, force: boolean): Promise<void> => {
  const network = await ctx.repo.requireNetwork(name);
  if (network.phase !== 'removing') {
    const endpoints = await ctx.repo.listEndpoints(name);
    if (endpoints.length > 0 && !force) {
      const where = endpoints.map((e) => e.netns).join(', ');
      throw new TnetError('conflict', `network ${name} is in use by ${endpoints.length} endpoint(s) (${where}); disconnect them first or use --force`, {
        target: name,
      });
    }
    await ctx.repo.rewrite({ networks: [{ ...network, phase: 'removing' }] });
  }
  await syncHost(ctx, { scope: NETWORKS_ONLY });
};

export const removeNetworks = (ctx: ServiceContext, names: readonly string[], force: boolean): Promise<void> =>
  ctx.repo.withHostLock(async () => {
    for (const name of names) await ctx.repo.requireNetwork(name); // all or nothing on a typo
    for (const name of names) await removeNetworkLocked(ctx, name, force);
  });

/** Removes every network with no endpoint, like `docker network prune`; returns their names. */
export const pruneNetworks = (ctx: ServiceContext): Promise<string[]> =>
  ctx.repo.withHostLock(async () => {
    const { networks, endpoints } = await loadSettledRecords(ctx);
    const used = new Set(endpoints.map((e) => e.network));
    const unused = networks.filter((n) => !used.has(n.name));
    if (unused.length === 0) return [];
    await ctx.repo.rewrite({ networks: unused.map((n): Network => ({ ...n, phase: 'removing' })) });
    await syncHost(ctx, { scope: NETWORKS_ONLY });
    return unused.map((n) => n.name);
  });
