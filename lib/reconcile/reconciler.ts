/**
 * One reconcile pass: desired (from the store) -> observe -> plan -> apply. Level-based like a
 * Kubernetes controller: it does not care what changed, only what is and what should be, so the
 * same pass serves `create`, `connect`, `apply`, crash recovery and drift repair. A second pass
 * right after a successful one plans nothing.
 */
import type { ClusterView } from '../drivers/types.js';
import { isTnetError, TnetError } from '../errors.js';
import type { Kernel } from '../kernel/types.js';
import type { Endpoint, Network } from '../model/types.js';
import { applyActions } from './apply.js';
import { departingHost, desiredHost, type Departing } from './desired.js';
import { observeHost, type Scope } from './observe.js';
import { planHost, type Plan } from './plan.js';
import { observeResolvConfs, planResolvConfs, resolvConfNamespaces, wantedResolvConfs } from './resolv-confs.js';

export interface ReconcileOptions {
  readonly scope: Scope;
  readonly dryRun?: boolean;
}

/**
 * Every pass, however scoped, also takes down what departs (records being removed, mappings being
 * unpublished: see departingHost), so a removal interrupted by a crash is finished by whatever
 * pass runs next. Returns the plan and what departed, for the caller to forget.
 */
export interface PassResult extends Plan {
  readonly departed: Departing;
}

export const reconcile = async (
  kernel: Kernel,
  networks: readonly Network[],
  endpoints: readonly Endpoint[],
  options: ReconcileOptions,
  cluster?: ClusterView,
): Promise<PassResult> => {
  const desired = desiredHost(networks, endpoints, cluster);
  const departed = departingHost(networks, endpoints, cluster);
  const scope: Scope = options.scope === 'all' ? 'all' : { ...options.scope, goneLinks: [...(options.scope.goneLinks ?? []), ...departed.links] };
  const pass = async (readForwards: boolean): Promise<PassResult> => {
    const observed = await observeHost(kernel, desired, scope, readForwards);
    const kernelPlan = planHost(desired, observed, scope, departed.forwards);
    const files = planResolvConfs(wantedResolvConfs(desired), observeResolvConfs(kernel, resolvConfNamespaces(desired, departed, scope)));
    const plan = { ...kernelPlan, actions: [...kernelPlan.actions, ...files.actions], notes: [...kernelPlan.notes, ...files.notes] };
    if (plan.problems.length > 0) throw new TnetError('conflict', plan.problems.join('; '), { op: 'reconcile' });
    if (options.dryRun !== true) await applyActions(kernel, plan.actions, { hostLinks: observed.host.links });
    return { ...plan, departed };
  };
  const full = scope === 'all';
  try {
    return await pass(full);
  } catch (e) {
    // A scoped pass writes port-forward elements without listing them; a key held by something
    // else (drift, a crash) makes the add fail: look at every element and converge properly.
    if (full || !isTnetError(e, 'exists') || !/port-forward/.test(e.message)) throw e;
    return pass(true);
  }
};
