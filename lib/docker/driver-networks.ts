/** Docker's network calls: a Docker network is a tnet network it made, or an attachment to an existing one. */
import { TnetError } from '../errors.js';
import { cidrsOverlap, parseCidr } from '../model/cidr.js';
import { inputError } from '../model/fields.js';
import type { Network } from '../model/types.js';
import type { ServiceContext } from '../service/context.js';
import { removeEndpointsLocked } from '../service/endpoints.js';
import { createNetworkLocked, hostRoutes, removeNetworkLocked } from '../service/networks.js';
import type { DriverContext } from './driver.js';
import { isTnetAddressSpace } from './ipam.js';
import { DOCKER_NETWORK_LABEL, networkIntent, type NetworkIntent } from './options.js';
import type { DockerCall } from './wire.js';

export const findNetwork = async (d: DriverContext, networkId: string): Promise<Network | undefined> => {
  const networks = await d.ctx.repo.listNetworks();
  const made = networks.find((n) => n.labels[DOCKER_NETWORK_LABEL] === networkId);
  if (made !== undefined) return made;
  const attached = await d.records.getAttachment(networkId);
  return attached === undefined ? undefined : networks.find((n) => n.name === attached.network);
};

export const requireNetwork = async (d: DriverContext, networkId: string): Promise<Network> => {
  const n = await findNetwork(d, networkId);
  if (n === undefined) throw new TnetError('notFound', `network ${networkId.slice(0, 12)} is unknown to tnet (its state may have been lost); remove it with 'docker network rm' and create it again`, { target: networkId });
  return n;
};

export const familyCfg = (n: Network, family: 4 | 6) => (family === 4 ? n.ipv4 : n.ipv6);

/** An attachment must agree with the network it stands for, and take its addresses from tnet. */
const checkAttachment = (intent: Extract<NetworkIntent, { kind: 'attach' }>, network: Network): void => {
  const flag = '-o tnet.network';
  if (network.driver !== 'bridge' && network.driver !== 'overlay') {
    throw inputError(flag, `network "${network.name}" uses driver ${network.driver}; use Docker's own --network ${network.driver} for that`);
  }
  if (!intent.addressSpaces.every(isTnetAddressSpace)) {
    throw inputError('--ipam-driver', `a Docker network on tnet network "${network.name}" needs tnet's IPAM (--ipam-driver tnet --ipam-opt tnet.network=${network.name} --subnet ${network.ipv4?.subnet ?? network.ipv6?.subnet ?? ''}): its addresses are shared with tnet's own endpoints${network.driver === 'overlay' ? ' and other hosts' : ''}`);
  }
  for (const family of [4, 6] as const) {
    const want = family === 4 ? intent.ipv4 : intent.ipv6;
    const have = familyCfg(network, family);
    if (want === undefined) continue;
    if (have === undefined || want.subnet !== have.subnet || (want.gateway !== undefined && want.gateway !== have.gateway)) {
      throw inputError('--ipam-opt tnet.network', `the pool Docker got (${want.subnet}) is not network "${network.name}"'s (${have?.subnet ?? `no IPv${family}`}); give --ipam-opt tnet.network=${network.name}`);
    }
  }
  if (intent.internal !== network.internal) {
    throw inputError('--internal', `network "${network.name}" is ${network.internal ? '' : 'not '}internal; ${network.internal ? 'give' : 'leave out'} --internal`);
  }
};

/**
 * Docker's pool must not shadow a route this host has (a VPN, a LAN): Docker's own bridge checks
 * that too. The routes of tnet's bridges are networks, which creating the network checks itself.
 */
const checkRoutes = async (ctx: ServiceContext, subnets: ReadonlyArray<string | undefined>): Promise<void> => {
  const ours = new Set((await ctx.repo.listNetworks()).flatMap((n) => [n.ipv4?.subnet, n.ipv6?.subnet]));
  const routes = (await hostRoutes(ctx)).filter((r) => !ours.has(r));
  for (const subnet of subnets) {
    if (subnet === undefined) continue;
    const routed = routes.find((r) => parseCidr(r).family === parseCidr(subnet).family && cidrsOverlap(r, subnet));
    if (routed !== undefined) throw new TnetError('conflict', `subnet ${subnet} overlaps route ${routed} on this host; choose a subnet that does not overlap`, { target: subnet });
  }
};

export const createNetwork = async (d: DriverContext, call: Extract<DockerCall, { kind: 'createNetwork' }>): Promise<void> => {
  const intent = networkIntent(call);
  const { ctx } = d;
  await ctx.repo.withHostLock(async () => {
    if (intent.kind === 'attach') {
      const network = await ctx.repo.getNetwork(intent.network);
      if (network === undefined) throw inputError('-o tnet.network', `network "${intent.network}" not found (see 'tnet ls'); create it first`, 'notFound');
      checkAttachment(intent, network);
      await d.records.attach(call.networkId, { network: network.name });
      return;
    }
    const made = (await ctx.repo.listNetworks()).find((n) => n.labels[DOCKER_NETWORK_LABEL] === call.networkId);
    if (made !== undefined && made.phase !== 'creating') return;
    const { request } = intent;
    await checkRoutes(ctx, [request.ipv4?.subnet, request.ipv6?.subnet]);
    // tnet's IPAM knows the --ip-range Docker gave it; CreateNetwork does not carry it.
    const subnet = request.ipv4?.subnet;
    const pool = call.ipv4Data.some((p) => isTnetAddressSpace(p.addressSpace)) ? (await d.records.listPools()).find((p) => p.network === undefined && p.subnet === subnet) : undefined;
    const ipv4 = { ...request.ipv4, ...(pool?.ipRange === undefined ? {} : { ipRange: pool.ipRange }) };
    await createNetworkLocked(ctx, { ...request, ipv4 });
  });
  if (intent.kind === 'create') d.created(call.networkId);
};

/** What a Docker network was to tnet goes: the network it made, or its endpoints on the one it stood for. */
export const deleteNetworkLocked = async (d: DriverContext, networkId: string): Promise<void> => {
  const network = await findNetwork(d, networkId);
  if (network?.labels[DOCKER_NETWORK_LABEL] === networkId) return removeNetworkLocked(d.ctx, network.name, true);
  if (network !== undefined) {
    const mine = (await d.ctx.repo.listEndpoints(network.name)).filter((e) => e.owner.kind === 'docker' && e.owner.networkId === networkId);
    if (mine.length > 0) await removeEndpointsLocked(d.ctx, mine);
  }
  await d.records.detach(networkId);
};

