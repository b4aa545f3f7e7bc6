/** Runs a reconcile pass over everything the store holds for this host. */
import type { Endpoint, Network } from '../model/types.js';
import { desiredHost, hostLinkNames } from '../reconcile/desired.js';
import type { Plan } from '../reconcile/plan.js';
import { reconcile, type ReconcileOptions } from '../reconcile/reconciler.js';
import { clusterView } from './cluster.js';
import type { ServiceContext } from './context.js';

export const syncHost = async (ctx: ServiceContext, options: ReconcileOptions): Promise<Plan> =>
  reconcile(ctx.kernel, await ctx.repo.listNetworks(), await ctx.repo.listEndpoints(), options, await clusterView(ctx));

/** A pass over the networks only: no container namespace is visited. */
export const NETWORKS_ONLY = { endpoints: new Set<string>() } as const;

/** A pass that removes these records' links (they are no longer in the store) and visits nothing else. */
export const removalScope = async (ctx: ServiceContext, networks: readonly Network[], endpoints: readonly Endpoint[]) =>
  ({ endpoints: new Set<string>(), goneLinks: hostLinkNames(desiredHost(networks, endpoints, await clusterView(ctx))) }) as const;
