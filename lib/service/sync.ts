/** Runs a reconcile pass over everything the store holds for this host. */
import { reconcile, type ReconcileOptions } from '../reconcile/reconciler.js';
import type { Plan } from '../reconcile/plan.js';
import { clusterView } from './cluster.js';
import type { ServiceContext } from './context.js';

export const syncHost = async (ctx: ServiceContext, options: ReconcileOptions): Promise<Plan> =>
  reconcile(ctx.kernel, await ctx.repo.listNetworks(), await ctx.repo.listEndpoints(), options, await clusterView(ctx));

/** The scope for a pass that looks inside no container namespace unless its host side drifted. */
export const NO_ENDPOINTS: ReadonlySet<string> = new Set();
