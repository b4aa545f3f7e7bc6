/**
 * What this host knows about its cluster, read fresh for each reconcile pass: its own identity
 * (state dir), and either the static peers of a spec file or the hosts in the shared store that
 * are alive (their agent holds its lease). A host whose lease expired drops out of the view, so
 * the next pass removes its entries; when it returns, they come back.
 */
import type { ClusterView } from '../drivers/types.js';
import { TnetError } from '../errors.js';
import type { HostIdentity } from '../model/host.js';
import { createHostRegistry } from '../state/hosts.js';
import type { ServiceContext } from './context.js';

export const clusterView = async (ctx: ServiceContext): Promise<ClusterView> => {
  const self = ctx.identity?.get();
  const registry = createHostRegistry(ctx.repo.store);
  const others = (hosts: readonly HostIdentity[]): Map<string, string> =>
    new Map(hosts.filter((h) => h.name !== self?.name).map((h) => [h.name, h.vtep]));
  const base = self === undefined ? {} : { self };
  // All three reads at once: with a shared store each is a round trip, and a scoped pass (connect)
  // waits for the view; the host list is simply unused when static peers are configured.
  const [peers, hosts, alive] = await Promise.all([registry.staticPeers(), registry.list(), registry.alive()]);
  if (peers !== undefined) return { ...base, peers: others(peers), mode: 'static' };
  return { ...base, peers: others(hosts.filter((h) => alive.has(h.name))), mode: 'store' };
};

export const requireSelf = (ctx: ServiceContext, why: string): HostIdentity => {
  const self = ctx.identity?.get();
  if (self === undefined) {
    throw new TnetError('invalidInput', `${why} needs this host to be part of a cluster first: run 'tnet host join --vtep ADDRESS' (or give host: in an apply spec for static peers)`);
  }
  return self;
};

/** The link that carries `address` on this host, and its MTU: the underlay an overlay runs over. */
export const linkWithAddress = async (ctx: ServiceContext, address: string): Promise<{ link: string; mtu: number } | undefined> => {
  const [addresses, links] = await Promise.all([ctx.kernel.host.listAddresses(4), ctx.kernel.host.listLinks()]);
  const owner = addresses.find((a) => a.address === address);
  const link = owner === undefined ? undefined : links.find((l) => l.index === owner.linkIndex);
  return link === undefined ? undefined : { link: link.name, mtu: link.mtu };
};

/** This host's underlay for a new overlay network; undefined when the host has not joined. */
export const underlayOf = async (ctx: ServiceContext): Promise<{ link: string; mtu: number } | undefined> => {
  const self = ctx.identity?.get();
  if (self === undefined) return undefined;
  const found = await linkWithAddress(ctx, self.vtep);
  if (found === undefined) {
    throw new TnetError('conflict', `this host joined with VTEP ${self.vtep}, but no interface has that address any more; restore it or join again`, { target: self.vtep });
  }
  return found;
};
