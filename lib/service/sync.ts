/** Converges this host to the store: a reconcile pass over everything it holds, or one endpoint's entries. */
import type { ClusterView } from '../drivers/types.js';
import type { Endpoint, Network } from '../model/types.js';
import type { Action } from '../reconcile/actions.js';
import { applyActions } from '../reconcile/apply.js';
import { desiredHost, hostLinkNames } from '../reconcile/desired.js';
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
 * records: what the caller already read under the host lock (connect), to spare the round trips;
 * read fresh when absent.
 */
export const syncHost = async (ctx: ServiceContext, options: ReconcileOptions, records?: HostRecords): Promise<Plan> => {
  const { networks, endpoints, cluster } = records ?? (await loadHostRecords(ctx));
  return reconcile(ctx.kernel, networks, endpoints, options, cluster);
};

/** A pass over the networks only: no container namespace is visited. */
export const NETWORKS_ONLY = { endpoints: new Set<string>() } as const;

/** A pass that removes these records' links (they are no longer in the store) and visits nothing else. */
export const removalScope = async (ctx: ServiceContext, networks: readonly Network[], endpoints: readonly Endpoint[], cluster?: ClusterView) =>
  ({ endpoints: new Set<string>(), goneLinks: hostLinkNames(desiredHost(networks, endpoints, cluster ?? (await clusterView(ctx)))) }) as const;

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
