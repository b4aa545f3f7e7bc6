/**
 * The per-host agent (`tnet agent`): keeps this host's liveness lease, watches the store and keeps
 * this host converged to it, in two ways:
 *  - Another host's endpoint appearing, changing or going (every connect and disconnect in the
 *    cluster: the common event) is applied incrementally: just that endpoint's FDB and neighbour
 *    entries, planned from the records the agent already holds (plan-remote-endpoints.ts). No
 *    store read and no kernel dump, so it costs a few netlink calls however big the cluster is.
 *  - Everything else (networks, hosts joining, leases running out), a change it cannot plan on
 *    its own (an unknown network) or one the kernel refuses, and the periodic resync run the
 *    level-based pass: read the store, observe, plan, apply. It also refreshes the records the
 *    incremental path plans from, and repairs whatever that path may have missed: a lost event
 *    costs at most one resync period.
 * One worker drains the work, so kernel changes never overlap, and whatever arrives during a round
 * is done together in the next: a burst costs one round, with no fixed delay.
 */
import { describeAction, type Action } from '../reconcile/actions.js';
import { createHostRegistry } from '../state/hosts.js';
import { recordKeyOf } from '../state/repository.js';
import type { LeasedKey, WatchEvent } from '../store/types.js';
import { requireSelf } from './cluster.js';
import type { ServiceContext } from './context.js';
import { foldEndpointEvents } from './endpoint-events.js';
import { loadHostRecords, NETWORKS_ONLY, syncHost, syncRemoteEndpoints, type HostRecords } from './sync.js';

export interface AgentOptions {
  /** A host whose agent stops refreshing is considered gone after this long. */
  readonly leaseTtlSeconds: number;
  /** Full pass (every container namespace too) this often. */
  readonly resyncMs: number;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal;
}

const RETRY_MS = 1_000;
const SHUTDOWN_GRACE_MS = 2_000;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export const runAgent = async (ctx: ServiceContext, o: AgentOptions): Promise<void> => {
  const self = requireSelf(ctx, 'the agent');
  const registry = createHostRegistry(ctx.repo.store);
  const isStatic = (await registry.staticPeers()) !== undefined;
  const record = isStatic ? undefined : (await registry.list()).find((h) => h.name === self.name);
  if (!isStatic && record === undefined) {
    throw new Error(`host ${self.name} is not recorded in this store; run 'tnet host join' again`);
  }

  let lease: LeasedKey | undefined;
  let leaseLost = false;
  const holdLease = async (): Promise<void> => {
    if (record === undefined) return;
    lease = await registry.keepAlive(record, o.leaseTtlSeconds, (e) => {
      o.log(`lease lost (${e.message}); taking a new one`);
      leaseLost = true;
      request('pass');
    });
    leaseLost = false;
  };

  /** Records of the last level pass, kept current by the endpoint events applied since. */
  let known: HostRecords | undefined;
  const report = (what: string, actions: readonly Action[], started: number): void => {
    if (actions.length === 0) return;
    o.log(`${what}: ${actions.length} change(s) in ${Date.now() - started} ms`);
    for (const a of actions) o.log(`  ${describeAction(a)}`);
  };

  const levelPass = async (full: boolean): Promise<void> => {
    const started = Date.now();
    const scope = full ? 'all' : NETWORKS_ONLY;
    // Look first without the lock: most events (this host's own connects, other networks)
    // need nothing here, and holding the host lock for them would only delay the CLI.
    const records = await loadHostRecords(ctx);
    known = records;
    if ((await syncHost(ctx, { scope, dryRun: true }, records)).actions.length === 0) return;
    const plan = await ctx.repo.withHostLock(async () => {
      const fresh = await loadHostRecords(ctx);
      known = fresh;
      return syncHost(ctx, { scope }, fresh);
    });
    report(`pass (${full ? 'full' : 'events'})`, plan.actions, started);
    for (const n of plan.notes) o.log(`  note: ${n}`);
  };

  /** False when only a level pass can tell what these events need. */
  const applyIncrementally = async (events: readonly WatchEvent[]): Promise<boolean> => {
    if (known === undefined) return false;
    const started = Date.now();
    const folded = foldEndpointEvents(known.endpoints, events);
    try {
      const actions = await syncRemoteEndpoints(ctx, known, folded.changes);
      if (actions === undefined) return false;
      known = { ...known, endpoints: folded.endpoints };
      report('update', actions, started);
      return true;
    } catch (e) {
      o.log(`update failed (${e instanceof Error ? e.message : String(e)}); running a pass`);
      return false;
    }
  };

  // Work waiting for the worker. A level pass reads the store after these events arrived, so
  // when one is due it covers them and they are dropped.
  let full = false;
  let pass = false;
  let events: WatchEvent[] = [];
  let working: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  const round = async (): Promise<void> => {
    const work = { full, pass, events };
    full = pass = false;
    events = [];
    try {
      if (leaseLost) await holdLease();
      if (!work.full && !work.pass && (await applyIncrementally(work.events))) return;
      await levelPass(work.full);
    } catch (e) {
      // The agent must outlive a store or kernel hiccup: try again shortly, not in a tight loop.
      o.log(`pass failed: ${e instanceof Error ? e.message : String(e)}`);
      clearTimeout(retry);
      retry = setTimeout(() => request('pass'), RETRY_MS);
    }
  };
  const request = (what: 'full' | 'pass' | WatchEvent): void => {
    if (o.signal.aborted) return;
    if (what === 'full') full = true;
    else if (what === 'pass') pass = true;
    else events.push(what);
    working ??= (async () => {
      while ((full || pass || events.length > 0) && !o.signal.aborted) await round();
    })().finally(() => (working = undefined));
  };
  const onEvent = (event: WatchEvent): void => {
    const key = recordKeyOf(event.key);
    // A reservation changes in the same transaction as the record that owns it.
    if (key.kind === 'reservation') return;
    request(key.kind === 'endpoint' ? event : 'pass');
  };

  await holdLease();
  o.log(`agent for ${self.name} (VTEP ${self.vtep}) started; ${isStatic ? 'static peers' : `lease ${o.leaseTtlSeconds}s`}`);
  const stopWatch = await ctx.repo.store.watch('tnet/', onEvent);
  request('full');
  try {
    while (!o.signal.aborted) {
      await sleep(o.resyncMs, o.signal);
      request('full');
    }
  } finally {
    stopWatch();
    // A pass stuck on an unreachable store must not keep the agent from stopping.
    await Promise.race([working, new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS).unref())]);
    clearTimeout(retry);
    await lease?.close();
    o.log('agent stopped');
  }
};
