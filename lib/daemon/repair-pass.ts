/**
 * The one way the daemon changes the kernel: a reconcile pass of the given scope, under the host
 * lock, through the same syncHost every command uses. So the daemon never fights a CLI call, a
 * CNI call or another role: they all hold the same lock while they change things, and the pass
 * plans from records read under it.
 *
 * It looks first without the lock: most events are the echo of tnet's own changes (a connect's
 * new veth, a pass's own repairs) and need nothing, and holding the lock for them would only
 * delay the CLI. A removal of something of ours is never such an echo, so that pass goes straight
 * to the lock. A look that would only rewrite port-forward elements blind checks them first
 * (forward-check.ts), so an endpoint with published ports is not "repaired" after every connect.
 * When the store cannot be read, the pass runs from the records last read (`known`) and says so:
 * a daemon that lost etcd still puts back what a hand deleted.
 */
import type { Plan } from '../reconcile/plan.js';
import type { Scope } from '../reconcile/observe.js';
import type { ServiceContext } from '../service/context.js';
import { loadHostRecords, syncHost, type HostRecords } from '../service/sync.js';
import { alreadyPresent, onlyBlindAdds } from './forward-check.js';

/** A store that takes longer than this to answer is treated as unreachable for this pass. */
export const STORE_READ_TIMEOUT_MS = 3_000;
/** Once the store is known to be unreachable, a pass does not wait long for it to come back. */
export const STORE_DOWN_TIMEOUT_MS = 300;

export interface RepairOutcome {
  readonly plan: Plan;
  readonly records: HostRecords;
  /** Set when the store could not be read and the pass ran from the last known records. */
  readonly storeError?: string;
}

const within = <T>(ms: number, what: string, p: Promise<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });

const readRecords = async (ctx: ServiceContext, known: HostRecords | undefined, timeoutMs: number): Promise<{ records: HostRecords; storeError?: string }> => {
  try {
    return { records: await within(timeoutMs, 'reading the store', loadHostRecords(ctx)) };
  } catch (e) {
    if (known === undefined) throw e;
    return { records: known, storeError: e instanceof Error ? e.message : String(e) };
  }
};

/** Nothing to change, or only port-forward elements to write blind that are all there already. */
const nothingToDo = (ctx: ServiceContext, plan: Plan): boolean =>
  plan.actions.length === 0 || (onlyBlindAdds(plan.actions) && alreadyPresent(ctx.kernel.nft, plan.actions));

export interface RepairHints {
  /** The records of the last pass, to plan from when the store cannot be read. */
  readonly known?: HostRecords;
  /** The last pass could not read the store: it is given less time to answer. */
  readonly storeDown?: boolean;
  /** Something of ours was seen removed: no look without the lock first. */
  readonly certain?: boolean;
}

type Read = { readonly records: HostRecords; readonly storeError?: string };

/** Under the lock: the records again (a command may have changed them meanwhile), unless the store is down. */
const again = (ctx: ServiceContext, first: Read): Promise<Read> =>
  first.storeError === undefined ? readRecords(ctx, first.records, STORE_READ_TIMEOUT_MS) : Promise.resolve(first);

const pass = async (ctx: ServiceContext, scope: Scope, read: Read): Promise<RepairOutcome> => ({ plan: await syncHost(ctx, { scope }, read.records), ...read });
const nothing = (plan: Plan, read: Read): RepairOutcome => ({ plan: { ...plan, actions: [] }, ...read });

export const repair = async (ctx: ServiceContext, scope: Scope, hints: RepairHints = {}): Promise<RepairOutcome> => {
  const first = await readRecords(ctx, hints.known, hints.storeDown === true ? STORE_DOWN_TIMEOUT_MS : STORE_READ_TIMEOUT_MS);
  if (hints.certain === true) return ctx.repo.withHostLock(async () => pass(ctx, scope, await again(ctx, first)));
  const look = await syncHost(ctx, { scope, dryRun: true }, first.records).catch(() => undefined);
  if (look !== undefined && nothingToDo(ctx, look)) return nothing(look, first);
  return ctx.repo.withHostLock(async () => {
    // A command that held the lock while we looked may have done the work (a connect half-way
    // through when we looked), or changed the records: a disconnect and a connect of the same
    // namespace with ports, which keeps its endpoint id, so the first look's plan is not its plan.
    // The plan is only trusted when made from records read under the lock.
    const fresh = await again(ctx, first);
    const second = await syncHost(ctx, { scope, dryRun: true }, fresh.records);
    return nothingToDo(ctx, second) ? nothing(second, fresh) : pass(ctx, scope, fresh);
  });
};
