/**
 * Endpoints whose runtime places the container side itself (Docker; Handover in model/types.ts):
 * their moves from one state of the handover to the next. Each is one rewrite of the record; the
 * kernel side follows in a pass only where tnet finds something to do there (a placed interface).
 */
import { driverFor } from '../drivers/registry.js';
import { isTnetError } from '../errors.js';
import type { LinkState, NetlinkSession } from '../kernel/types.js';
import type { Endpoint, Handover, Network } from '../model/types.js';
import { handedOver, settled } from '../reconcile/handover.js';
import type { ServiceContext } from './context.js';
import { syncHost } from './sync.js';

export const withHandover = (e: Endpoint, change: Partial<Handover>): Endpoint =>
  e.handover === undefined ? e : { ...e, handover: { ...e.handover, ...change } };

/** Reads the endpoint's namespace through fn; undefined when the namespace is not there (yet). */
const readInside = async <T>(ctx: ServiceContext, e: Endpoint, fn: (session: NetlinkSession) => Promise<T>): Promise<T | undefined> => {
  let handle;
  try {
    handle = ctx.kernel.openNetns(e.netns);
  } catch (err) {
    if (isTnetError(err, 'notFound')) return undefined; // Docker mounts a container's namespace only when it starts it
    throw err;
  }
  const session = ctx.kernel.sessionIn(handle);
  try {
    return await fn(session);
  } finally {
    session.close();
    handle.close();
  }
};

/**
 * Looks in the endpoint's namespace for its interface (by MAC) and says whether the container
 * side is as `as(link)` (the endpoint in the state to check) wants it. Reads only.
 */
const asWantedInside = (ctx: ServiceContext, network: Network, e: Endpoint, as: (link: LinkState) => Endpoint): Promise<Endpoint | undefined> =>
  readInside(ctx, e, async (session) => {
    const [links, addresses, routes4, routes6] = await Promise.all([session.listLinks(), session.listAddresses(), session.listRoutes(4), session.listRoutes(6)]);
    const link = links.find((l) => l.mac === e.mac);
    if (link === undefined) return undefined;
    const wanted = as(link);
    const want = handedOver(driverFor(network.driver).endpoint(network, wanted), wanted);
    return want.kind === 'veth' && link.name === wanted.ifname && settled(want.container, link, { links, addresses, routes: [...routes4, ...routes6] }) ? wanted : undefined;
  });

/** Whether the runtime routes the endpoint's namespace out through its interface (its default route). Reads only. */
export const carriesDefaultRoute = async (ctx: ServiceContext, e: Endpoint): Promise<boolean> =>
  (await readInside(ctx, e, async (session) => {
    const [links, routes4, routes6] = await Promise.all([session.listLinks(), session.listRoutes(4), session.listRoutes(6)]);
    const link = links.find((l) => l.mac === e.mac);
    return link !== undefined && [...routes4, ...routes6].some((r) => r.outIndex === link.index && (r.destination === '0.0.0.0/0' || r.destination === '::/0'));
  })) === true;

/**
 * The endpoint as the runtime left it after Join: placed, under the name the runtime gave it,
 * once the interface with its MAC is in the namespace it joined and the runtime is done with it
 * (reconcile/handover.ts `settled`); unchanged until then. Reads only.
 */
export const placement = async (ctx: ServiceContext, network: Network, e: Endpoint): Promise<Endpoint> =>
  e.handover?.state !== 'joining' ? e : ((await asWantedInside(ctx, network, e, (link) => ({ ...withHandover(e, { state: 'placed' }), ifname: link.name }))) ?? e);

/**
 * Whether the kernel side has something new to follow: the interface is placed now, or is to
 * carry the namespace's default route now. Losing the gateway asks for nothing (the runtime takes
 * its route away itself, and a pass never removes a route).
 */
const asksMore = (before: Endpoint, after: Endpoint): boolean =>
  after.handover?.state === 'placed' && (before.handover?.state !== 'placed' || (after.handover.gateway === true && before.handover.gateway !== true));

/**
 * Records a new state of the handover; an interface placed (or made the gateway) is then checked
 * at once, and repaired by a pass only if its namespace differs: the runtime has just put it
 * there, so it nearly always is as wanted, and a pass would read the host and the firewall too
 * (their drift is the repair role's, from their own events).
 */
export const handOverLocked = async (ctx: ServiceContext, before: Endpoint, after: Endpoint): Promise<Endpoint> => {
  if (JSON.stringify(before) === JSON.stringify(after)) return after;
  await ctx.repo.rewrite({ endpoints: [after] });
  if (!asksMore(before, after)) return after;
  const network = await ctx.repo.getNetwork(after.network);
  if (network === undefined || (await asWantedInside(ctx, network, after, () => after)) === undefined) await syncHost(ctx, { scope: { endpoints: new Set([after.id]) } });
  return after;
};
