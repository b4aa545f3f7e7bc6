/**
 * The per-host agent (`tnet agent`): keeps this host's liveness lease, watches the store and
 * reconciles whenever anything changes, plus a periodic full pass that repairs drift and covers
 * missed events. Level-based, like the rest of the reconciler: an event only says "look again",
 * so a burst of events costs one pass and a lost event costs at most one resync period.
 */
import { describeAction } from '../reconcile/actions.js';
import { createHostRegistry } from '../state/hosts.js';
import type { LeasedKey } from '../store/types.js';
import { requireSelf } from './cluster.js';
import type { ServiceContext } from './context.js';
import { NETWORKS_ONLY, syncHost } from './sync.js';

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
      wake();
    });
    leaseLost = false;
  };

  // One pass at a time; a request during a pass makes exactly one more pass afterwards.
  let running: Promise<void> | undefined;
  let again: 'events' | 'full' | undefined;
  let wake: () => void = () => undefined;
  let retry: NodeJS.Timeout | undefined;
  const pass = async (full: boolean): Promise<void> => {
    const started = Date.now();
    try {
      if (leaseLost) await holdLease();
      const scope = full ? 'all' : NETWORKS_ONLY;
      // Look first without the lock: most events (this host's own connects, other networks)
      // need nothing here, and holding the host lock for them would only delay the CLI.
      if ((await syncHost(ctx, { scope, dryRun: true })).actions.length === 0) return;
      const plan = await ctx.repo.withHostLock(() => syncHost(ctx, { scope }));
      if (plan.actions.length > 0) {
        o.log(`pass (${full ? 'full' : 'events'}): ${plan.actions.length} change(s) in ${Date.now() - started} ms`);
        for (const a of plan.actions) o.log(`  ${describeAction(a)}`);
      }
      for (const n of plan.notes) o.log(`  note: ${n}`);
    } catch (e) {
      // The agent must outlive a store or kernel hiccup: try again shortly, not in a tight loop.
      o.log(`pass failed: ${e instanceof Error ? e.message : String(e)}`);
      clearTimeout(retry);
      retry = setTimeout(() => schedule(false), RETRY_MS);
    }
  };
  const schedule = (full: boolean): void => {
    if (o.signal.aborted) return;
    if (running) {
      again = full || again === 'full' ? 'full' : 'events';
      return;
    }
    running = (async () => {
      await pass(full);
      while (again !== undefined && !o.signal.aborted) {
        const next = again;
        again = undefined;
        await pass(next === 'full');
      }
    })().finally(() => (running = undefined));
  };
  wake = () => schedule(false);

  await holdLease();
  o.log(`agent for ${self.name} (VTEP ${self.vtep}) started; ${isStatic ? 'static peers' : `lease ${o.leaseTtlSeconds}s`}`);
  const stopWatch = await ctx.repo.store.watch('tnet/', () => schedule(false));
  schedule(true);
  try {
    while (!o.signal.aborted) {
      await sleep(o.resyncMs, o.signal);
      schedule(true);
    }
  } finally {
    stopWatch();
    // A pass stuck on an unreachable store must not keep the agent from stopping.
    await Promise.race([running, new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS).unref())]);
    clearTimeout(retry);
    await lease?.close();
    o.log('agent stopped');
  }
};
