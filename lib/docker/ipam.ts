/**
 * tnet as Docker's IPAM driver (`--ipam-driver tnet`). Docker asks for a pool and the gateway
 * before it creates the network, and for each container's address before CreateEndpoint, so
 * what is handed out is kept in the store (records.ts) until Docker releases it:
 *  - RequestPool without --subnet: tnet's route-aware choice, a subnet from its default pools that
 *    overlaps no tnet network, no route on the host and no pool handed out meanwhile;
 *  - with --subnet: that subnet, refused when it overlaps one of those;
 *  - with --ipam-opt tnet.network=NAME (and that network's --subnet): the subnet of that existing tnet network (overlays
 *    included), whose addresses are then shared with tnet's own endpoints and other hosts.
 * Addresses come from tnet's allocator, skipping every address leased to Docker and every tnet
 * endpoint on that subnet; a lease is create-if-absent, so two hosts never get the same one.
 */
import { TnetError } from '../errors.js';
import { allocateAddress, checkRequestedAddress } from '../ipam/allocate.js';
import { chooseSubnet } from '../ipam/pools.js';
import { cidrsOverlap, formatAddress, parseAddress, parseCidr, parseIp } from '../model/cidr.js';
import { inputError } from '../model/fields.js';
import { validateNetworkName } from '../model/names.js';
import { checkedSubnet, defaultGateway, reservedAddressReason } from '../model/subnet-config.js';
import type { IpFamily, Network } from '../model/types.js';
import type { ServiceContext } from '../service/context.js';
import { hostRoutes } from '../service/networks.js';
import type { DockerPool, DockerRecords } from './records.js';

/** The address spaces tnet's IPAM answers GetDefaultAddressSpaces with; CreateNetwork's IPv*Data name them. */
export const ADDRESS_SPACES = { local: 'tnet', global: 'tnet-global' } as const;
export const isTnetAddressSpace = (s: string): boolean => s === ADDRESS_SPACES.local || s === ADDRESS_SPACES.global;

const IPAM_OPTIONS = ['tnet.network'];
const ATTEMPTS = 8;

const familyOf = (n: Network, family: IpFamily) => (family === 4 ? n.ipv4 : n.ipv6);
const withPrefix = (pool: DockerPool, address: string): string => `${address}/${parseCidr(pool.subnet).prefixLength}`;

const unknownPool = (id: string): TnetError =>
  new TnetError('notFound', `pool ${id} is unknown to tnet (was the state dir lost?); remove and create the Docker network again`, { target: id });

/** Everything a new pool's subnet must not overlap, named for the message. */
const occupied = async (ctx: ServiceContext, records: DockerRecords, family: IpFamily): Promise<Array<{ readonly cidr: string; readonly what: string }>> => {
  const [networks, pools, routes] = await Promise.all([ctx.repo.listNetworks(), records.listPools(), hostRoutes(ctx)]);
  return [
    ...networks.flatMap((n) => {
      const cfg = familyOf(n, family);
      return cfg === undefined ? [] : [{ cidr: cfg.subnet, what: `tnet network "${n.name}" (${cfg.subnet}; to put this Docker network on it, give --ipam-opt tnet.network=${n.name} --subnet ${cfg.subnet} -o tnet.network=${n.name})` }];
    }),
    ...pools.filter((p) => p.network === undefined && p.family === family).map((p) => ({ cidr: p.subnet, what: `the pool of another Docker network (${p.subnet})` })),
    ...routes.filter((r) => parseCidr(r).family === family).map((r) => ({ cidr: r, what: `route ${r} on this host` })),
  ];
};

const attachedPool = async (ctx: ServiceContext, id: string, family: IpFamily, name: string, pool: string | undefined, subPool: string | undefined): Promise<DockerPool> => {
  const network = await ctx.repo.requireNetwork(validateNetworkName(name, '--ipam-opt tnet.network'));
  const cfg = familyOf(network, family);
  if (cfg === undefined) throw inputError('--ipam-opt tnet.network', `network "${name}" has no IPv${family} subnet${family === 6 ? '; leave out --ipv6' : ''}`);
  // Without a --subnet, Docker releases a pool the host already routes (as this network's is,
  // once it has a bridge here) and asks again, for ever.
  if (pool === undefined) throw inputError('--subnet', `give --subnet ${cfg.subnet} with --ipam-opt tnet.network=${name}: Docker asks for a pool without one and refuses every pool the host already routes`);
  if (network.driver !== 'bridge' && network.driver !== 'overlay') throw inputError('--ipam-opt tnet.network', `network "${name}" uses driver ${network.driver}, which hands out no addresses`);
  for (const [flag, given, have] of [['--subnet', pool, cfg.subnet], ['--ip-range', subPool, cfg.ipRange]] as const) {
    if (given !== undefined && parseCidr(given, flag).toString() !== have) {
      throw inputError(flag, `${given} is not what network "${name}" has (${have ?? 'none'}); leave ${flag} out to use the network's`);
    }
  }
  return { id, family, subnet: cfg.subnet, gateway: cfg.gateway, ...(cfg.ipRange === undefined ? {} : { ipRange: cfg.ipRange }), network: name };
};

/** A range inside the subnet, canonical. */
const insideSubnet = (subnet: string, text: string, flag: string): string => {
  const range = parseCidr(text, flag);
  const outer = parseCidr(subnet);
  if (range.family !== outer.family || range.first < outer.first || range.last > outer.last) throw inputError(flag, `${range.toString()} is outside subnet ${subnet}`);
  return range.toString();
};

/** An address of the subnet an interface may have (not its network or broadcast address), canonical. */
const hostAddressIn = (subnet: string, text: string, flag: string): string => {
  const cidr = parseCidr(subnet);
  const a = parseAddress(text, flag);
  if (a.family !== cidr.family || a.value < cidr.first || a.value > cidr.last) throw inputError(flag, `${text} is outside subnet ${subnet}`);
  const reserved = reservedAddressReason(cidr, a.value);
  if (reserved !== undefined) throw inputError(flag, `${text} ${reserved}; pick a host address`);
  return formatAddress(a.family, a.value);
};

export const requestPool = (ctx: ServiceContext, records: DockerRecords, call: { pool?: string; subPool?: string; options: Readonly<Record<string, string>>; v6: boolean }): Promise<{ PoolID: string; Pool: string; Data: Record<string, string> }> =>
  ctx.repo.withHostLock(async () => {
    const unknown = Object.keys(call.options).find((k) => !IPAM_OPTIONS.includes(k));
    if (unknown !== undefined) throw inputError('--ipam-opt', `unknown option ${JSON.stringify(unknown)}; tnet's IPAM takes tnet.network=NAME (an existing tnet network's subnet)`);
    const family: IpFamily = call.v6 ? 6 : 4;
    const target = call.options['tnet.network'];
    for (let attempt = 1; ; attempt++) {
      const id = `tnet-${ctx.newId().slice(0, 16)}`;
      let pool: DockerPool;
      if (target !== undefined) {
        pool = await attachedPool(ctx, id, family, target, call.pool, call.subPool);
      } else {
        const taken = await occupied(ctx, records, family);
        let subnet: string;
        if (call.pool === undefined) {
          subnet = chooseSubnet(family, taken.map((t) => t.cidr));
        } else {
          subnet = checkedSubnet(family, call.pool, '--subnet').toString();
          const clash = taken.find((t) => cidrsOverlap(subnet, t.cidr));
          if (clash !== undefined) throw new TnetError('conflict', `--subnet ${subnet} overlaps ${clash.what}; choose a subnet that does not overlap`, { target: subnet });
        }
        const ipRange = call.subPool === undefined ? undefined : insideSubnet(subnet, call.subPool, '--ip-range');
        pool = { id, family, subnet, ...(ipRange === undefined ? {} : { ipRange }) };
      }
      if (await records.addPool(pool)) return { PoolID: id, Pool: pool.subnet, Data: {} };
      // Another host claimed the same subnet meanwhile: choose again, unless it was asked for.
      if (call.pool !== undefined || attempt >= ATTEMPTS) throw new TnetError('conflict', `subnet ${pool.subnet} was just taken by another Docker network; choose another --subnet`, { target: pool.subnet });
    }
  });

export const releasePool = async (ctx: ServiceContext, records: DockerRecords, poolId: string): Promise<void> => {
  const pool = await records.getPool(poolId);
  if (pool !== undefined) await ctx.repo.withHostLock(() => records.releasePool(pool));
};

/** The tnet network whose subnet this pool is (an attached one, or the one a Docker network made on it). */
const networkOn = (networks: readonly Network[], pool: DockerPool): Network | undefined =>
  networks.find((n) => (pool.network === undefined || n.name === pool.network) && familyOf(n, pool.family)?.subnet === pool.subnet);

export const requestAddress = (ctx: ServiceContext, records: DockerRecords, call: { poolId: string; address?: string; gateway: boolean }): Promise<{ Address: string; Data: Record<string, string> }> =>
  ctx.repo.withHostLock(async () => {
    const pool = await records.getPool(call.poolId);
    if (pool === undefined) throw unknownPool(call.poolId);
    const requested = call.address === undefined ? undefined : parseIp(call.address, 'Address').address;
    const network = networkOn(await ctx.repo.listNetworks(), pool);
    if (call.gateway) {
      const fixed = pool.network === undefined ? undefined : pool.gateway;
      if (fixed !== undefined && requested !== undefined && requested !== fixed) {
        throw inputError('--gateway', `${requested} is not the gateway of network "${pool.network}" (${fixed}); leave --gateway out`);
      }
      const gateway = fixed ?? (requested === undefined ? defaultGateway(pool.subnet) : hostAddressIn(pool.subnet, requested, '--gateway'));
      if (pool.gateway !== gateway) await records.setPoolGateway(pool, gateway);
      return { Address: withPrefix(pool, gateway), Data: {} };
    }
    const gateway = pool.gateway ?? (network === undefined ? undefined : familyOf(network, pool.family)?.gateway) ?? defaultGateway(pool.subnet);
    const cfg = { subnet: pool.subnet, gateway, ...(pool.ipRange === undefined ? {} : { ipRange: pool.ipRange }) };
    if (requested !== undefined) checkRequestedAddress(cfg, requested, '--ip', network?.name);
    for (let attempt = 1; ; attempt++) {
      const endpoints = network === undefined ? [] : await ctx.repo.listEndpoints(network.name);
      const taken = new Set([...(await records.leasedAddresses(pool.subnet)), ...endpoints.flatMap((e) => [e.ipv4, e.ipv6].filter((a): a is string => a !== undefined))]);
      const address = allocateAddress(cfg, pool.family, taken, requested, network?.name);
      if (await records.lease(pool, address)) return { Address: withPrefix(pool, address), Data: {} };
      if (requested !== undefined || attempt >= ATTEMPTS) throw new TnetError('conflict', `address ${address} is already in use on ${pool.subnet}`, { target: address });
    }
  });

export const releaseAddress = async (records: DockerRecords, call: { poolId: string; address: string }): Promise<void> => {
  const pool = await records.getPool(call.poolId);
  if (pool === undefined) return;
  const address = parseIp(call.address, 'Address').address;
  // A compare-and-delete of the lease alone: no host lock, so it does not wait for the removal
  // its DeleteEndpoint left running (the endpoint's record holds the address until that is done).
  if (address !== pool.gateway) await records.releaseLease(pool, address);
};
