/** Joining a cluster, leaving it, and listing its hosts with their health. */
import { TnetError } from '../errors.js';
import { validateHostName, validateVtep, type HostRecord } from '../model/host.js';
import { createHostRegistry } from '../state/hosts.js';
import { linkWithAddress } from './cluster.js';
import type { ServiceContext } from './context.js';
import { NETWORKS_ONLY, syncHost } from './sync.js';

export interface HostStatus {
  readonly name: string;
  readonly vtep: string;
  /** alive: its agent holds its lease; down: the lease expired; static: a spec file's peer. */
  readonly state: 'alive' | 'down' | 'static';
  readonly self: boolean;
}

export const joinHost = async (ctx: ServiceContext, request: { name: string; vtep: string }): Promise<HostRecord> => {
  const name = validateHostName(request.name, '--name');
  const vtep = validateVtep(request.vtep, '--vtep');
  if (ctx.repo.store.putLeased === undefined) {
    throw new TnetError('invalidInput', "host join needs a shared store (--store etcd://host:2379,… or TNET_STORE); for a cluster without etcd, list the peers in an apply spec (host: and peers:)");
  }
  const current = ctx.identity?.get();
  if (current !== undefined) {
    throw new TnetError('exists', `this host has already joined as ${current.name} (VTEP ${current.vtep}); run 'tnet host leave' first to join again`, { target: current.name });
  }
  if ((await linkWithAddress(ctx, vtep)) === undefined) {
    const own = (await ctx.kernel.host.listAddresses(4)).map((a) => a.address).filter((a) => !a.startsWith('127.'));
    throw new TnetError('invalidInput', `--vtep ${vtep} is not an address of this host (its IPv4 addresses: ${own.join(', ') || 'none'}); VXLAN packets must leave from an address the host has`, { target: vtep });
  }
  const record: HostRecord = { name, vtep, joined: ctx.now().toISOString() };
  return ctx.repo.withHostLock(async () => {
    await createHostRegistry(ctx.repo.store).join(record);
    ctx.identity?.set({ name, vtep });
    await syncHost(ctx, { scope: NETWORKS_ONLY });
    return record;
  });
};

/** Forgets this host in the store and locally; its overlay devices go with the next pass. */
export const leaveHost = async (ctx: ServiceContext): Promise<string> => {
  const self = ctx.identity?.get();
  if (self === undefined) throw new TnetError('notFound', 'this host has not joined a cluster');
  await createHostRegistry(ctx.repo.store).leave(self.name);
  ctx.identity?.clear();
  await ctx.repo.withHostLock(() => syncHost(ctx, { scope: NETWORKS_ONLY }));
  return self.name;
};

export const listHosts = async (ctx: ServiceContext): Promise<HostStatus[]> => {
  const registry = createHostRegistry(ctx.repo.store);
  const self = ctx.identity?.get()?.name;
  const peers = await registry.staticPeers();
  if (peers !== undefined) {
    const mine = ctx.identity?.get();
    const all = mine === undefined || peers.some((p) => p.name === mine.name) ? peers : [mine, ...peers];
    return all.map((p) => ({ name: p.name, vtep: p.vtep, state: 'static', self: p.name === self }));
  }
  const [hosts, alive] = await Promise.all([registry.list(), registry.alive()]);
  return hosts.map((h) => ({ name: h.name, vtep: h.vtep, state: alive.has(h.name) ? 'alive' : 'down', self: h.name === self }));
};
