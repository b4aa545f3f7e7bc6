/**
 * The daemon's one worker: every role asks it for passes (targets) or small incremental jobs,
 * and it runs them one at a time, so the daemon's own kernel changes never overlap. Requests
 * that arrive while a pass runs are merged into the next one (a burst of events costs one pass,
 * with no fixed delay), the records of the last pass are kept for jobs that plan from them and
 * for passes while the store is unreachable, and failing keys back off (backoff.ts).
 */
import { describeAction } from '../reconcile/actions.js';
import type { ServiceContext } from '../service/context.js';
import type { HostRecords } from '../service/sync.js';
import { createBackoff, type Waiting } from './backoff.js';
import { repair, type RepairOutcome } from './repair-pass.js';
import { addTarget, describeWork, emptyWork, isEmpty, keysOf, merge, scopeOf, splitWork, workOfKey, type Target, type Work } from './targets.js';

export interface RepairRecord {
  readonly at: string;
  readonly trigger: string;
  readonly scope: string;
  readonly ms: number;
  readonly actions: readonly string[];
  readonly notes?: readonly string[];
  /** The pass ran from the last known records: the store could not be read. */
  readonly fromKnownRecords?: true;
}

export interface RepairerStatus {
  readonly passes: number;
  readonly lastPass?: string;
  readonly pending: string | undefined;
  readonly recent: readonly RepairRecord[];
  readonly waiting: readonly Waiting[];
  readonly store: { readonly reachable: boolean; readonly error?: string; readonly since?: string };
}

export interface Repairer {
  /** certain: the target was seen removed (see Work.certain). */
  request(target: Target, reason: string, certain?: boolean): void;
  /**
   * Runs `job` in the worker's turn with the records of the last pass; it returns them updated
   * by what it did, or undefined when only a level pass can tell what is needed.
   */
  incremental(job: (known: HostRecords) => Promise<HostRecords | undefined>, reason: string): void;
  /** Runs `job` in the worker's turn: no pass runs meanwhile. */
  exclusive<T>(job: () => Promise<T>): Promise<T>;
  /** Resolves once nothing is running and nothing may run now (waiting keys aside). */
  idle(): Promise<void>;
  status(): RepairerStatus;
  /** Stops taking work and waits for the pass in progress, at most graceMs. */
  stop(graceMs: number): Promise<void>;
}

const RECENT = 20;
/** A bridge put back with its 500 ports is one line per port: the log names the first few. */
const LOGGED_ACTIONS = 20;
/**
 * Before a pass, the worker waits for requests to pause, so what arrives over several socket reads
 * becomes one pass: QUIET_MS (at most COALESCE_MAX_MS) for a few requests; for a burst (more than
 * BURST requests: a bridge deleted takes its 500 ports out one by one over ~300 ms, then goes
 * itself) BURST_QUIET_MS, at most BURST_MAX_MS, since a pass run in the middle of it only
 * re-enslaves ports to a bridge about to go.
 */
const QUIET_MS = 2;
const COALESCE_MAX_MS = 25;
const BURST = 16;
const BURST_QUIET_MS = 20;
const BURST_MAX_MS = 1_000;
/**
 * A pass planned from the records last read (the store did not answer in time) is run again this
 * long after, until one reads the store: on a slow store the records it missed (a network
 * removed, an endpoint added) would otherwise wait for the next event or the full pass.
 */
const STALE_REDO_MS = 2_000;
/**
 * Most events are the echo of a call this process is making (a Docker call's veth, a warm CNI
 * ADD): the pass waits for the calls holding or waiting for the host lock, so its look lands
 * after them rather than inside them (the calls' netlink requests and commits would wait behind
 * the look's), and sees what they made. Docker's calls for one command come with gaps of up to
 * ~40 ms between them (it moves and configures the interface meanwhile), so the look waits for
 * a lull that long. Drift repair waits at most CALLS_FIRST_MAX_MS behind a stream of calls.
 */
const CALLS_FIRST_MAX_MS = 1_000;
const CALLS_LULL_MS = 50;

export const createRepairer = (ctx: ServiceContext, log: (line: string) => void, clock: () => number = Date.now): Repairer => {
  const backoff = createBackoff();
  const recent: RepairRecord[] = [];
  const jobs: Array<() => Promise<void>> = [];
  let pending = emptyWork();
  let known: HostRecords | undefined;
  let passes = 0;
  let lastPass: string | undefined;
  let store: { reachable: boolean; error?: string; since?: string } = { reachable: true };
  let running: Promise<void> | undefined;
  let wake: NodeJS.Timeout | undefined;
  let stale = emptyWork();
  let redo: NodeJS.Timeout | undefined;
  let stopped = false;
  let idleWaiters: Array<() => void> = [];
  let requests = 0;
  const said = new Set<string>();

  const iso = (t: number): string => new Date(t).toISOString();
  // Everything waits while the network part fails: every pass includes it.
  const blocked = (key: string, now: number): boolean => backoff.blocked(key, now) || (key !== 'full' && backoff.blocked('networks', now));

  const noteStore = (error: string | undefined): void => {
    if (error === undefined && !store.reachable) {
      log('store reachable again; passes read it again');
      store = { reachable: true };
    } else if (error !== undefined && store.reachable) {
      log(`store unreachable (${error}); repairing from the records last read`);
      store = { reachable: false, error, since: iso(clock()) };
    }
  };

  const remember = (work: Work, o: RepairOutcome, ms: number): void => {
    const actions = o.plan.actions.map(describeAction);
    // A note (a namespace that is gone) holds until someone acts: said once, not every pass.
    const notes = o.plan.notes.filter((n) => !said.has(n));
    if (said.size + notes.length > 1_000) said.clear();
    for (const n of notes) said.add(n);
    if (actions.length === 0 && notes.length === 0) return;
    const entry: RepairRecord = {
      at: iso(clock()), trigger: [...work.reasons].join('; '), scope: describeWork(work), ms, actions,
      ...(notes.length === 0 ? {} : { notes }),
      ...(o.storeError === undefined ? {} : { fromKnownRecords: true as const }),
    };
    recent.push(entry);
    if (recent.length > RECENT) recent.shift();
    if (actions.length > 0) log(`repaired (${entry.trigger}; ${entry.scope}): ${actions.length} change(s) in ${ms} ms`);
    for (const a of actions.slice(0, LOGGED_ACTIONS)) log(`  ${a}`);
    if (actions.length > LOGGED_ACTIONS) log(`  ... and ${actions.length - LOGGED_ACTIONS} more (tnet daemon status lists them)`);
    for (const n of notes) log(`note: ${n}`);
  };

  /** The key waits, then its work is tried again (a new event for it changes nothing to that). */
  const fail = (key: string, work: Work, e: unknown): void => {
    const message = e instanceof Error ? e.message : String(e);
    const delay = backoff.failed(key, message, clock());
    merge(pending, work);
    log(`repair of ${key} failed: ${message}; next try in ${Math.round(delay / 1000)} s`);
  };

  const redoLater = (work: Work): void => {
    merge(stale, work);
    if (redo !== undefined || stopped) return;
    redo = setTimeout(() => {
      redo = undefined;
      const again = stale;
      stale = emptyWork();
      merge(pending, again);
      requests++;
      kick();
    }, STALE_REDO_MS);
  };

  /** One pass; false when it failed (the caller decides whom to blame). */
  const attempt = async (work: Work): Promise<{ ok: true } | { ok: false; error: unknown }> => {
    const started = clock();
    try {
      const o = await repair(ctx, scopeOf(work), { ...(known === undefined ? {} : { known }), storeDown: !store.reachable, certain: work.certain });
      known = o.records;
      passes++;
      lastPass = iso(clock());
      noteStore(o.storeError);
      if (o.storeError !== undefined) redoLater(work);
      remember(work, o, clock() - started);
      const changed = o.plan.actions.length > 0;
      for (const key of keysOf(work)) {
        const r = backoff.succeeded(key, changed, clock());
        if (r === 'recovered') log(`repair of ${key} works again`);
        if (r === 'flapping') fail(key, workOfKey(work, key), new Error('its repairs keep being undone; waiting before the next'));
      }
      return { ok: true };
    } catch (error) {
      return { ok: false, error };
    }
  };

  const round = async (work: Work): Promise<void> => {
    const first = await attempt(work);
    if (first.ok) return;
    const keys = keysOf(work);
    if (keys.length === 1) return fail(keys[0] ?? 'networks', work, first.error);
    // Find the culprit: the network part alone, then each key alone.
    const base = emptyWork();
    base.networks = true;
    for (const r of work.reasons) base.reasons.add(r);
    const net = await attempt(base);
    if (!net.ok) return fail('networks', work, net.error);
    for (const key of keys.filter((k) => k !== 'networks')) {
      const alone = await attempt(workOfKey(work, key));
      if (!alone.ok) fail(key, workOfKey(work, key), alone.error);
    }
  };

  const afterCalls = (): Promise<void> => ctx.repo.hostLockFree(CALLS_FIRST_MAX_MS, CALLS_LULL_MS);

  const settle = (): void => {
    clearTimeout(wake);
    const at = backoff.nextWake();
    if (!stopped && at !== undefined && !isEmpty(pending)) wake = setTimeout(kick, Math.max(0, at - clock()) + 5);
    if (running === undefined) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  function kick(): void {
    if (stopped || running !== undefined) return;
    running = (async () => {
      const started = clock();
      const before = requests;
      for (let seen = -1; seen !== requests; ) {
        const burst = requests - before > BURST;
        if (clock() - started >= (burst ? BURST_MAX_MS : COALESCE_MAX_MS)) break;
        seen = requests;
        await new Promise((r) => setTimeout(r, burst ? BURST_QUIET_MS : QUIET_MS));
      }
      while (!stopped) {
        const job = jobs.shift();
        if (job !== undefined) {
          await job();
          continue;
        }
        await afterCalls();
        const now = clock();
        const { now: ready, later } = splitWork(pending, (k) => !blocked(k, now));
        pending = later;
        if (isEmpty(ready)) break;
        await round(ready);
      }
    })()
      .catch((e: unknown) => log(`worker: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        running = undefined;
        if (!stopped && (jobs.length > 0 || hasReadyWork())) kick();
        else settle();
      });
  }

  const hasReadyWork = (): boolean => keysOf(pending).some((k) => !blocked(k, clock()));

  const request = (target: Target, reason: string, certain = false): void => {
    if (stopped) return;
    addTarget(pending, target, reason, certain);
    requests++;
    kick();
  };

  const exclusive = <T>(job: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (stopped) return reject(new Error('the daemon is stopping'));
      jobs.push(() => job().then(resolve, reject));
      kick();
    });

  return {
    request,
    incremental: (job, reason) => {
      void exclusive(async () => {
        const next = known === undefined ? undefined : await job(known);
        if (next === undefined) request({ kind: 'networks' }, reason);
        else known = next;
      }).catch((e: unknown) => {
        log(`${reason}: ${e instanceof Error ? e.message : String(e)}; running a pass`);
        request({ kind: 'networks' }, reason);
      });
    },
    exclusive,
    idle: () => (running === undefined && jobs.length === 0 && !hasReadyWork() ? Promise.resolve() : new Promise((r) => idleWaiters.push(r))),
    status: () => ({
      passes,
      ...(lastPass === undefined ? {} : { lastPass }),
      pending: isEmpty(pending) ? undefined : describeWork(pending),
      recent: [...recent],
      waiting: backoff.waiting(clock()),
      store,
    }),
    stop: async (graceMs) => {
      stopped = true;
      clearTimeout(wake);
      clearTimeout(redo);
      await Promise.race([running, new Promise((r) => setTimeout(r, graceMs).unref())]);
      settle();
    },
  };
};
