/**
 * ADD, DEL and CHECK on top of the service layer. Each runs under the host lock, so concurrent
 * plugin processes (and the CLI) see one consistent state: a runtime starting 20 containers at
 * once gets 20 distinct addresses, and a network created by the first ADD is found by the rest.
 */
import { driverFor } from '../drivers/registry.js';
import { isTnetError, TnetError } from '../errors.js';
import { checkRequestedAddress } from '../ipam/allocate.js';
import { isSameNetns } from '../kernel/netns-identity.js';
import { nameClash } from '../model/dns-name.js';
import { bridgeNameFor, hostVethNameFor } from '../model/names.js';
import type { Endpoint, Network, SubnetConfig } from '../model/types.js';
import { describeAction, type Action } from '../reconcile/actions.js';
import type { ServiceContext } from '../service/context.js';
import { connectLocked, removeEndpointsLocked } from '../service/endpoints.js';
import { createNetworkLocked, removeNetworkLocked } from '../service/networks.js';
import { loadSettledRecords, syncHost } from '../service/sync.js';
import { CNI_CODES, CniError } from './error-codes.js';
import { requireFits } from './network.js';
import { toPortMappings } from './ports.js';
import type { AttachRequest, RequestedIp } from './request.js';
import { dnsFor, endpointResult, mergeResults, type CniResult } from './result.js';

const isCniEndpoint = (e: Endpoint, containerId: string, ifname: string): boolean =>
  e.owner.kind === 'cni' && e.owner.containerId === containerId && e.ifname === ifname;

/**
 * The namespace must exist, and must not be the host's own, before anything is recorded; either
 * way it is the runtime's environment at fault (code 4).
 */
const requireNetns = (ctx: ServiceContext, path: string, network: Network): void => {
  let handle;
  try {
    handle = ctx.kernel.openNetns(path);
  } catch (e) {
    if (isTnetError(e, 'notFound')) throw new CniError(CNI_CODES.invalidEnv, `CNI_NETNS: ${path} is not a network namespace (${e.message})`);
    throw e;
  }
  try {
    if (driverFor(network.driver).hasIpam && isSameNetns(handle, ctx.kernel.hostNetns)) {
      throw new CniError(CNI_CODES.invalidEnv, `CNI_NETNS: ${path} is the host's own network namespace; a container needs a namespace of its own`);
    }
  } finally {
    handle.close();
  }
};

/** A requested address must fit the subnet and be free; checked here so the message names its field. */
const checkRequested = (network: Network, peers: readonly Endpoint[], ip: RequestedIp | undefined, cfg: SubnetConfig | undefined): void => {
  if (ip === undefined) return;
  if (cfg === undefined || !driverFor(network.driver).hasIpam) {
    throw new CniError(CNI_CODES.invalidNetworkConfig, `${ip.field}: network ${network.name} has no ${ip.address.includes(':') ? 'IPv6' : 'IPv4'} subnet to take ${ip.address} from`);
  }
  try {
    checkRequestedAddress(cfg, ip.address, ip.field, network.name);
  } catch (e) {
    if (isTnetError(e)) throw new CniError(CNI_CODES.invalidNetworkConfig, e.message);
    throw e;
  }
  const holder = peers.find((p) => p.ipv4 === ip.address || p.ipv6 === ip.address);
  if (holder !== undefined) {
    const who = holder.owner.kind === 'cni' ? `container ${holder.owner.containerId.slice(0, 12)}` : holder.netns;
    throw new TnetError('conflict', `${ip.field}: ${ip.address} is already in use on network ${network.name} (by ${who})`, { target: ip.address });
  }
};

const attachLocked = async (ctx: ServiceContext, req: AttachRequest, network: Network): Promise<Endpoint> => {
  requireNetns(ctx, req.netns, network);
  const peers = await ctx.repo.listEndpoints(network.name);
  // A retried ADD (the runtime crashed after we answered, or we were killed before answering)
  // gets the same attachment back, finished by this pass if it was interrupted.
  const same = peers.find((e) => isCniEndpoint(e, req.containerId, req.ifname));
  if (same !== undefined && same.netns === req.netns) {
    await syncHost(ctx, { scope: { endpoints: new Set([same.id]) } });
    return same;
  }
  if (same !== undefined && same.netns !== req.netns) await removeEndpointsLocked(ctx, [same]); // a stale attachment of a namespace that is gone
  const others = peers.filter((e) => e.id !== same?.id);
  checkRequested(network, others, req.ipv4, network.ipv4);
  checkRequested(network, others, req.ipv6, network.ipv6);
  // The runtime's container name is unique to that runtime only (Kubernetes: per namespace): a
  // name another endpoint holds is not this container's to take, and not a reason to fail it.
  const name = req.name !== undefined && nameClash({ name: req.name, aliases: [] }, others, network.name) === undefined ? req.name : undefined;
  return connectLocked(
    ctx,
    {
      network: network.name,
      netns: req.netns,
      ifname: req.ifname,
      ...(req.ipv4 === undefined ? {} : { ipv4: req.ipv4.address }),
      ...(req.ipv6 === undefined ? {} : { ipv6: req.ipv6.address }),
      ...(req.mac === undefined ? {} : { mac: req.mac }),
      ...(name === undefined ? {} : { name }),
      ...(req.aliases.length === 0 ? {} : { aliases: req.aliases }),
      ...(req.portMappings.length === 0 ? {} : { ports: toPortMappings(req.portMappings) }),
    },
    { kind: 'cni', containerId: req.containerId },
  );
};

export const cniAdd = (ctx: ServiceContext, req: AttachRequest): Promise<CniResult> =>
  ctx.repo.withHostLock(async () => {
    const { networks } = await loadSettledRecords(ctx);
    const existing = networks.find((n) => n.name === req.network.name);
    if (existing !== undefined) requireFits(req.network, existing);
    // A network whose creation an earlier ADD began is finished by this one.
    const creates = existing === undefined || existing.phase === 'creating';
    const network = creates ? await createNetworkLocked(ctx, req.network) : existing;
    try {
      const endpoint = await attachLocked(ctx, req, network);
      return mergeResults(req.prevResult, endpointResult(network, endpoint, dnsFor(network, req.dns)));
    } catch (e) {
      // Nothing left behind: a network this ADD created goes again with its failed endpoint.
      if (creates) await removeNetworkLocked(ctx, network.name, true).catch(() => undefined);
      throw e;
    }
  });

/**
 * DEL is idempotent: no network, no attachment, no namespace (CNI_NETNS empty) are all success,
 * and the address is freed in every case; the veth goes with the reconcile pass.
 */
export const cniDel = (ctx: ServiceContext, networkName: string, containerId: string, ifname: string): Promise<void> =>
  ctx.repo.withHostLock(async () => {
    if ((await ctx.repo.getNetwork(networkName)) === undefined) return;
    const mine = (await ctx.repo.listEndpoints(networkName)).filter((e) => isCniEndpoint(e, containerId, ifname));
    await removeEndpointsLocked(ctx, mine);
  });

/**
 * Whether a planned action touches this endpoint (its namespace, veth, bridge), its network's
 * sysctls (the host-wide ones, or its bridge's), or the firewall. Another network's drift is
 * that network's business.
 */
const concerns = (a: Action, endpoint: Endpoint, network: Network): boolean => {
  const bridge = network.driver === 'host' || network.driver === 'none' ? undefined : bridgeNameFor(network);
  const names = new Set([hostVethNameFor(endpoint.id), ...(bridge === undefined ? [] : [bridge])]);
  const netns = 'netns' in a ? a.netns : undefined;
  if (netns !== undefined && netns === endpoint.netns) return true;
  if ('link' in a && netns === undefined && names.has(a.link)) return true;
  if ('name' in a && names.has(a.name)) return true;
  if (a.do === 'setSysctl') return !a.key.includes('/conf/') || a.key.includes('/conf/all/') || (bridge !== undefined && a.key.includes(`/conf/${bridge}/`));
  return a.do === 'replaceFirewall' || a.do === 'deleteFirewall';
};

/** CHECK passes when a reconcile pass would change nothing for this attachment, and prevResult still lists its addresses. */
export const cniCheck = (ctx: ServiceContext, req: AttachRequest): Promise<void> =>
  ctx.repo.withHostLock(async () => {
    const network = await ctx.repo.getNetwork(req.network.name);
    const endpoint = network && (await ctx.repo.listEndpoints(network.name)).find((e) => isCniEndpoint(e, req.containerId, req.ifname));
    if (network === undefined || endpoint === undefined) {
      throw new CniError(CNI_CODES.unknownContainer, `container ${req.containerId} has no attachment ${req.ifname} on network ${req.network.name}`);
    }
    requireFits(req.network, network);
    if (endpoint.netns !== req.netns) {
      throw new TnetError('conflict', `CNI_NETNS: attachment ${req.ifname} of container ${req.containerId} was made in ${endpoint.netns}, not ${req.netns}`);
    }
    const plan = await syncHost(ctx, { scope: { endpoints: new Set([endpoint.id]) }, dryRun: true });
    const drift = plan.actions.filter((a) => concerns(a, endpoint, network));
    if (drift.length > 0) throw new TnetError('conflict', `attachment has drifted; a reconcile would: ${drift.map(describeAction).join('; ')}`);
    const ours = endpointResult(network, endpoint).ips.map((ip) => ip.address);
    const listed = new Set(req.prevResult?.ips.map((ip) => ip.address) ?? ours);
    const missing = ours.filter((a) => !listed.has(a));
    if (missing.length > 0) throw new TnetError('conflict', `prevResult: does not list ${missing.join(', ')}, which tnet gave this attachment`);
  });
