/** STATUS and GC (CNI 1.1): can this network take another container, and free what runtimes forgot. */
import { driverFor } from '../drivers/registry.js';
import { isTnetError } from '../errors.js';
import { allocateAddress } from '../ipam/allocate.js';
import { resolveNetwork } from '../model/network-resolve.js';
import type { Endpoint, IpFamily, NetworkRequest } from '../model/types.js';
import type { ServiceContext } from '../service/context.js';
import { removeEndpointsLocked } from '../service/endpoints.js';
import { CNI_CODES, CniError } from './error-codes.js';
import type { Attachment } from './netconf.js';

const unavailable = (e: unknown, kinds: readonly string[]): never => {
  if (isTnetError(e) && kinds.includes(e.kind)) throw new CniError(CNI_CODES.pluginNotAvailable, e.message);
  throw e;
};

/**
 * STATUS fails (code 50) when an ADD could not succeed: the network's pool has no free address,
 * or the network does not exist and could not be created as configured (its subnet overlaps
 * another network's, say).
 */
export const cniStatus = async (ctx: ServiceContext, request: NetworkRequest): Promise<void> => {
  const networkName = request.name;
  const network = await ctx.repo.getNetwork(networkName);
  if (network === undefined) {
    try {
      resolveNetwork(request, { id: '0'.repeat(64), now: '', existing: await ctx.repo.listNetworks(), hostRoutes: [] });
    } catch (e) {
      unavailable(e, ['conflict', 'exhausted', 'exists']);
    }
    return;
  }
  if (!driverFor(network.driver).hasIpam) return;
  const endpoints = await ctx.repo.listEndpoints(networkName);
  const taken = new Set(endpoints.flatMap((e) => [e.ipv4, e.ipv6].filter((a): a is string => a !== undefined)));
  for (const [family, cfg] of [[4, network.ipv4], [6, network.ipv6]] as Array<[IpFamily, typeof network.ipv4]>) {
    if (cfg === undefined) continue;
    try {
      allocateAddress(cfg, family, taken, undefined, networkName);
    } catch (e) {
      unavailable(e, ['exhausted']);
    }
  }
};

const key = (containerId: string, ifname: string): string => `${containerId}\0${ifname}`;

/**
 * GC frees every attachment of this network that a runtime made (owner cni) and no longer lists;
 * endpoints made with `tnet connect` or `tnet apply` are never touched. One reconcile pass then
 * removes their veths. Returns what was freed.
 */
export const cniGc = (ctx: ServiceContext, networkName: string, valid: readonly Attachment[]): Promise<Endpoint[]> =>
  ctx.repo.withHostLock(async () => {
    const network = await ctx.repo.getNetwork(networkName);
    if (network === undefined) return [];
    const keep = new Set(valid.map((a) => key(a.containerId, a.ifname)));
    const stale = (await ctx.repo.listEndpoints(networkName)).filter(
      (e) => e.owner.kind === 'cni' && !keep.has(key(e.owner.containerId, e.ifname)),
    );
    if (stale.length > 0) await removeEndpointsLocked(ctx, stale);
    return stale;
  });
