/**
 * One reconcile pass: desired (from the store) -> observe -> plan -> apply. Level-based like a
 * Kubernetes controller: it does not care what changed, only what is and what should be, so the
 * same pass serves `create`, `connect`, `apply`, crash recovery and drift repair. A second pass
 * right after a successful one plans nothing.
 */
import type { ClusterView } from '../drivers/types.js';
import { isTnetError, TnetError } from '../errors.js';
import type { PortForward } from '../firewall/forwards.js';
import type { Kernel } from '../kernel/types.js';
import type { Endpoint, Network } from '../model/types.js';
import { applyActions } from './apply.js';
import { desiredHost } from './desired.js';
import { observeHost, type Scope } from './observe.js';
import { planHost, type Plan } from './plan.js';

export interface ReconcileOptions {
  readonly scope: Scope;
  readonly dryRun?: boolean;
  /** Forwards of endpoints (or their ports) just removed from the store: a scoped pass deletes them. */
  readonly released?: readonly PortForward[];
}

export const reconcile = async (
  kernel: Kernel,
  networks: readonly Network[],
  endpoints: readonly Endpoint[],
  options: ReconcileOptions,
  cluster?: ClusterView,
): Promise<Plan> => {
  const desired = desiredHost(networks, endpoints, cluster);
  const pass = async (readForwards: boolean): Promise<Plan> => {
    const observed = await observeHost(kernel, desired, options.scope, readForwards);
    const plan = planHost(desired, observed, options.scope, options.released ?? []);
    if (plan.problems.length > 0) throw new TnetError('conflict', plan.problems.join('; '), { op: 'reconcile' });
    if (options.dryRun !== true) await applyActions(kernel, plan.actions);
    return plan;
  };
  const full = options.scope === 'all';
  try {
    return await pass(full);
  } catch (e) {
    // A scoped pass writes port-forward elements without listing them; a key held by something
    // else (drift, a crash) makes the add fail: look at every element and converge properly.
    if (full || !isTnetError(e, 'exists') || !/port-forward/.test(e.message)) throw e;
    return pass(true);
  }
};
