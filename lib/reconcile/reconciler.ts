/**
 * One reconcile pass: desired (from the store) -> observe -> plan -> apply. Level-based like a
 * Kubernetes controller: it does not care what changed, only what is and what should be, so the
 * same pass serves `create`, `connect`, `apply`, crash recovery and drift repair. A second pass
 * right after a successful one plans nothing.
 */
import type { ClusterView } from '../drivers/types.js';
import { TnetError } from '../errors.js';
import type { Kernel } from '../kernel/types.js';
import type { Endpoint, Network } from '../model/types.js';
import { applyActions } from './apply.js';
import { desiredHost } from './desired.js';
import { observeHost, type EndpointScope } from './observe.js';
import { planHost, type Plan } from './plan.js';

export interface ReconcileOptions {
  /** Which endpoints' namespaces to inspect; others are inspected only when their host side drifted. */
  readonly scope: EndpointScope;
  readonly dryRun?: boolean;
}

export const reconcile = async (
  kernel: Kernel,
  networks: readonly Network[],
  endpoints: readonly Endpoint[],
  options: ReconcileOptions,
  cluster?: ClusterView,
): Promise<Plan> => {
  const desired = desiredHost(networks, endpoints, cluster);
  const plan = planHost(desired, await observeHost(kernel, desired, options.scope));
  if (plan.problems.length > 0) throw new TnetError('conflict', plan.problems.join('; '), { op: 'reconcile' });
  if (options.dryRun !== true) await applyActions(kernel, plan.actions);
  return plan;
};
