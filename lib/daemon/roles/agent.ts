/**
 * The overlay agent (what `tnet agent` was on its own): keeps this host's liveness lease in the
 * shared store and follows the store for what other hosts do.
 *  - Another host's endpoint appearing, changing or going (every connect and disconnect in the
 *    cluster: the common event) is applied incrementally in the worker's turn: just that
 *    endpoint's FDB and neighbour entries, planned from the records of the last pass
 *    (plan-remote-endpoints.ts). No store read and no kernel dump.
 *  - Everything else (networks, hosts joining, leases running out), or a change it cannot plan
 *    alone, asks the worker for a pass over the network part; the drift-repair role's periodic
 *    full pass covers whatever an incremental update missed.
 * Like flanneld it does not revoke its lease on a clean stop: a restart causes no churn, and a
 * host that stays stopped drops out when the lease runs out.
 */
import { describeAction } from '../../reconcile/actions.js';
import { requireSelf } from '../../service/cluster.js';
import { foldEndpointEvents } from '../../service/endpoint-events.js';
import { syncRemoteEndpoints } from '../../service/sync.js';
import { createHostRegistry } from '../../state/hosts.js';
import { recordKeyOf } from '../../state/repository.js';
import type { LeasedKey, WatchEvent } from '../../store/types.js';
import { requireHost, type Role } from '../role.js';

const LEASE_RETRY_MS = 1_000;

export const agentRole: Role = {
  name: 'agent',
  usesHostState: true,
  skip: (d) =>
    d.host?.ctx.identity?.get() === undefined ? "this host is in no cluster (no 'tnet host join', no static peers in an applied spec)" : undefined,
  async start(d) {
    const { ctx, repairer, feed } = requireHost(d, 'agent');
    const log = (line: string): void => d.log(`agent: ${line}`);
    const self = requireSelf(ctx, 'the agent');
    const registry = createHostRegistry(ctx.repo.store);
    const isStatic = (await registry.staticPeers()) !== undefined;
    const record = isStatic ? undefined : (await registry.list()).find((h) => h.name === self.name);
    if (!isStatic && record === undefined) throw new Error(`host ${self.name} is not recorded in this store; run 'tnet host join' again`);

    let lease: LeasedKey | undefined;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    /** One attempt at a time: every failure schedules exactly one next attempt. */
    const holdLease = async (): Promise<void> => {
      if (record === undefined || stopped) return;
      const again = (ms: number): void => {
        clearTimeout(retry);
        if (!stopped) retry = setTimeout(() => void holdLease(), ms);
      };
      try {
        const held = await registry.keepAlive(record, d.options.leaseTtlSeconds, (e) => {
          log(`lease lost (${e.message}); taking a new one`);
          again(0);
        });
        if (stopped) return await held.close();
        lease = held;
        repairer.request({ kind: 'networks' }, 'lease taken');
      } catch (e) {
        log(`cannot take the lease (${e instanceof Error ? e.message : String(e)}); trying again in ${LEASE_RETRY_MS / 1000} s`);
        again(LEASE_RETRY_MS);
      }
    };

    // Endpoint events read together are applied together.
    let batch: WatchEvent[] = [];
    const flush = (): void => {
      const events = batch;
      batch = [];
      repairer.incremental(async (known) => {
        const started = Date.now();
        const folded = foldEndpointEvents(known.endpoints, events);
        const actions = await syncRemoteEndpoints(ctx, known, folded.changes);
        if (actions === undefined) return undefined;
        if (actions.length > 0) {
          log(`update: ${actions.length} change(s) in ${Date.now() - started} ms`);
          for (const a of actions) log(`  ${describeAction(a)}`);
        }
        return { ...known, endpoints: folded.endpoints };
      }, 'another host\'s endpoint');
    };
    const stopFeed = await feed.subscribe((event) => {
      const key = recordKeyOf(event.key);
      // A reservation changes in the same transaction as the record that owns it.
      if (key.kind === 'reservation') return;
      if (key.kind !== 'endpoint') return repairer.request({ kind: 'networks' }, `store: ${event.key} ${event.type === 'put' ? 'changed' : 'deleted'}`);
      if (batch.length === 0) setImmediate(flush);
      batch.push(event);
    });
    await holdLease();
    repairer.request({ kind: 'full' }, 'agent started');
    log(`${self.name} (VTEP ${self.vtep}) started; ${isStatic ? 'static peers' : `lease ${d.options.leaseTtlSeconds}s`}`);

    return {
      stop: async () => {
        stopped = true;
        clearTimeout(retry);
        stopFeed();
        await lease?.close();
      },
      status: () => ({ host: self.name, vtep: self.vtep, mode: isStatic ? 'static peers' : 'shared store', lease: lease === undefined ? 'none' : `${d.options.leaseTtlSeconds}s` }),
    };
  },
};
