/** Network operations: each records desired state, then reconciles; a failure undoes both. */
import { TnetError } from '../errors.js';
import { resolveNetwork } from '../model/network-resolve.js';
import type { Network, NetworkRequest } from '../model/types.js';
import type { ServiceContext } from './context.js';
import { underlayOf } from './cluster.js';
import { releasedForwards } from './ports.js';
import { NETWORKS_ONLY, removalScope, syncHost } from './sync.js';

const withUnderlay = (underlay: { link: string; mtu: number } | undefined) => (underlay === undefined ? {} : { underlay });

const DEFAULT_ROUTES = new Set(['0.0.0.0/0', '::/0']);

/** Subnets already routed on this host: an automatically chosen subnet must not shadow them. */
const hostRoutes = async (ctx: ServiceContext): Promise<string[]> => {
  const routes = [...(await ctx.kernel.host.listRoutes(4)), ...(await ctx.kernel.host.listRoutes(6))];
  return routes.map((r) => r.destination).filter((d) => !DEFAULT_ROUTES.has(d) && !d.startsWith('fe80:'));
};

/** Creates a network without taking the host lock; for callers that already hold it. */
export const createNetworkLocked = async (ctx: ServiceContext, request: NetworkRequest): Promise<Network> => {
  const existing = await ctx.repo.listNetworks();
  const network = resolveNetwork(request, {
    id: ctx.newId(),
    now: ctx.now().toISOString(),
    existing,
    hostRoutes: await hostRoutes(ctx),
    ...(request.driver === 'overlay' ? withUnderlay(await underlayOf(ctx)) : {}),
  });
  await ctx.repo.createNetwork(network);
  try {
    await syncHost(ctx, { scope: NETWORKS_ONLY });
  } catch (e) {
    await ctx.repo.deleteNetwork(network.name);
    throw e;
  }
  return network;
};

export const createNetwork = (ctx: ServiceContext, request: NetworkRequest): Promise<Network> =>
  ctx.repo.withHostLock(() => createNetworkLocked(ctx, request));

/** Removes a network; refuses while endpoints are attached unless force, which detaches them. */
export const removeNetworkLocked = async (ctx: ServiceContext, name: string, force: boolean): Promise<void> => {
  const network = await ctx.repo.requireNetwork(name);
  const endpoints = await ctx.repo.listEndpoints(name);
  if (endpoints.length > 0 && !force) {
    const where = endpoints.map((e) => e.netns).join(', ');
    throw new TnetError('conflict', `network ${name} is in use by ${endpoints.length} endpoint(s) (${where}); disconnect them first or use --force`, {
      target: name,
    });
  }
  const released = await releasedForwards(ctx, endpoints);
  await ctx.repo.deleteNetwork(name);
  await syncHost(ctx, { scope: await removalScope(ctx, [network], endpoints), released });
};

export const removeNetworks = (ctx: ServiceContext, names: readonly string[], force: boolean): Promise<void> =>
  ctx.repo.withHostLock(async () => {
    for (const name of names) await ctx.repo.requireNetwork(name); // all or nothing on a typo
    for (const name of names) await removeNetworkLocked(ctx, name, force);
  });

/** Removes every network with no endpoint, like `docker network prune`; returns their names. */
export const pruneNetworks = (ctx: ServiceContext): Promise<string[]> =>
  ctx.repo.withHostLock(async () => {
    const used = new Set((await ctx.repo.listEndpoints()).map((e) => e.network));
    const unused = (await ctx.repo.listNetworks()).filter((n) => !used.has(n.name));
    for (const n of unused) await ctx.repo.deleteNetwork(n.name);
    if (unused.length > 0) await syncHost(ctx, { scope: await removalScope(ctx, unused, []) });
    return unused.map((n) => n.name);
  });
