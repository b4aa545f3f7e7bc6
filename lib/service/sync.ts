/** Converges this host to the store: a reconcile pass over everything it holds, or one endpoint's entries. */
import type { ClusterView } from '../drivers/types.js';
import type { Endpoint, Network } from '../model/types.js';
import type { Action } from '../reconcile/actions.js';
import { applyActions } from '../reconcile/apply.js';
import { departingHost, nothingDeparts } from '../reconcile/desired.js';
import type { Plan } from '../reconcile/plan.js';
import { planRemoteEndpointChanges, type EndpointChange } from '../reconcile/plan-remote-endpoints.js';
import { reconcile, type ReconcileOptions } from '../reconcile/reconciler.js';
import { clusterView } from './cluster.js';
import type { ServiceContext } from './context.js';

/** What a pass is computed from: the store's networks and endpoints and the cluster view. */
export interface HostRecords {
  readonly networks: readonly Network[];
  readonly endpoints: readonly Endpoint[];
  readonly cluster: ClusterView;
}

/** Reads the records of a pass; the reads are independent, so they go to the store at once. */
export const loadHostRecords = async (ctx: ServiceContext): Promise<HostRecords> => {
  const [networks, endpoints, cluster] = await Promise.all([ctx.repo.listNetworks(), ctx.repo.listEndpoints(), clusterView(ctx)]);
  return { networks, endpoints, cluster };
};

/**
 * One pass, then the records whose removal it completed are forgotten (their links, addresses and
 * forwards are gone now, so their addresses may be handed out again). records: what the caller
 * already read under the host lock, to spare the round trips; read fresh when absent.
 */
export const syncHost = async (ctx: ServiceContext, options: ReconcileOptions, records?: HostRecords): Promise<Plan> => {
  const { networks, endpoints, cluster } = records ?? (await loadHostRecords(ctx));
  const result = await reconcile(ctx.kernel, networks, endpoints, options, cluster);
  const { departed } = result;
  if (options.dryRun !== true && !nothingDeparts(departed)) {
    await ctx.repo.forget({ networks: departed.networks, endpoints: departed.endpoints });
    if (departed.releasing.length > 0) await ctx.repo.rewrite({ endpoints: departed.releasing.map(({ releasing: _done, ...e }) => e) });
  }
  return result;
};

/** A pass over the networks only: no container namespace is visited. */
export const NETWORKS_ONLY = { endpoints: new Set<string>() } as const;

/**
 * The records, after finishing what an earlier, interrupted operation was taking down: every
 * operation starts here, so a name, an address or a host port that a removal had freed is free
 * before anything new is decided. When nothing is pending this is just the read.
 */
export const loadSettledRecords = async (ctx: ServiceContext): Promise<HostRecords> => {
  const records = await loadHostRecords(ctx);
  if (nothingDeparts(departingHost(records.networks, records.endpoints, records.cluster))) return records;
  await syncHost(ctx, { scope: NETWORKS_ONLY }, records);
  return loadHostRecords(ctx);
};

/**
 * Moves just these endpoints' FDB and neighbour entries on this host, planned from `records`
 * (see plan-remote-endpoints.ts). Returns what it did, or undefined when only a full pass can
 * tell what the changes need.
 */
export const syncRemoteEndpoints = async (ctx: ServiceContext, records: HostRecords, changes: readonly EndpointChange[]): Promise<readonly Action[] | undefined> => {
  const actions = planRemoteEndpointChanges(records.networks, records.cluster, changes);
  if (actions !== undefined && actions.length > 0) await ctx.repo.withHostLock(() => applyActions(ctx.kernel, actions));
  return actions;
};
