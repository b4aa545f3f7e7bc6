/**
 * Endpoints whose runtime places the container side itself (Docker; Handover in model/types.ts):
 * their moves from one state of the handover to the next. Each is one rewrite of the record; the
 * kernel side follows in a pass only where tnet has something to do there (a placed interface).
 */
import { driverFor } from '../drivers/registry.js';
import { isTnetError } from '../errors.js';
import type { Endpoint, Handover, Network } from '../model/types.js';
import { handedOver, settled } from '../reconcile/handover.js';
import type { ServiceContext } from './context.js';
import { syncHost } from './sync.js';

export const withHandover = (e: Endpoint, change: Partial<Handover>): Endpoint =>
  e.handover === undefined ? e : { ...e, handover: { ...e.handover, ...change } };

/**
 * The endpoint as the runtime left it after Join: placed, under the name the runtime gave it,
 * once the interface with its MAC is in the namespace it joined and the runtime is done with it
 * (reconcile/handover.ts `settled`); unchanged until then. Reads only.
 */
export const placement = async (ctx: ServiceContext, network: Network, e: Endpoint): Promise<Endpoint> => {
  if (e.handover?.state !== 'joining') return e;
  let handle;
  try {
    handle = ctx.kernel.openNetns(e.netns);
  } catch (err) {
    if (isTnetError(err, 'notFound')) return e; // Docker mounts a container's namespace only when it starts it
    throw err;
  }
  const session = ctx.kernel.sessionIn(handle);
  try {
    const [links, addresses, routes4, routes6] = await Promise.all([session.listLinks(), session.listAddresses(), session.listRoutes(4), session.listRoutes(6)]);
    const link = links.find((l) => l.mac === e.mac);
    if (link === undefined) return e;
    const placed: Endpoint = { ...withHandover(e, { state: 'placed' }), ifname: link.name };
    const want = handedOver(driverFor(network.driver).endpoint(network, placed), placed);
    return want.kind === 'veth' && settled(want.container, link, { links, addresses, routes: [...routes4, ...routes6] }) ? placed : e;
  } finally {
    session.close();
    handle.close();
  }
};

/**
 * Whether the kernel side has something new to follow: the interface is placed now, or is to
 * carry the namespace's default route now. Losing the gateway asks for nothing (the runtime takes
 * its route away itself, and a pass never removes a route).
 */
const asksMore = (before: Endpoint, after: Endpoint): boolean =>
  after.handover?.state === 'placed' && (before.handover?.state !== 'placed' || (after.handover.gateway === true && before.handover.gateway !== true));

/** Records a new state of the handover; an interface placed (or made the gateway) is then checked (and repaired) at once. */
export const handOverLocked = async (ctx: ServiceContext, before: Endpoint, after: Endpoint): Promise<Endpoint> => {
  if (JSON.stringify(before) === JSON.stringify(after)) return after;
  await ctx.repo.rewrite({ endpoints: [after] });
  if (asksMore(before, after)) await syncHost(ctx, { scope: { endpoints: new Set([after.id]) } });
  return after;
};
