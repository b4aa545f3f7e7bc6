/**
 * Drift repair: keeps this host's networks as recorded, from kernel events rather than polling.
 *  - Host namespace: rtnetlink links, addresses, neighbours (FDB and ARP/NDP of VXLAN devices)
 *    and netconf (forwarding sysctls); nftables notifications for the `inet tnet` table.
 *  - Every container namespace of this host's endpoints: links, addresses, routes (netns-watch.ts).
 *  - The store: endpoints appearing (their namespace is followed, and a pass for just them
 *    catches whatever changed before) and going (their veth is checked).
 * Each event becomes a target (event-targets.ts) and the worker runs one scoped pass for what
 * piled up (repairer.ts), so a repair costs the same with 1 or 500 endpoints attached. A full pass
 * every `resync` (default 5 min) is the backstop for what no event says: an overrun socket
 * (ENOBUFS, which also asks for a full pass at once), a sysctl without netconf notifications
 * (route_localnet), an element someone added to our maps.
 */
import { loadHostRecords, type HostRecords } from '../../service/sync.js';
import type { RtnlEvent } from '../../kernel/event-types.js';
import { BURST_BUFFER_BYTES, openNftEvents, openRtnlEvents, type EventSocket } from '../../kernel/event-sockets.js';
import type { Endpoint } from '../../model/types.js';
import { driftIndex, endpointsIn, type DriftIndex } from '../drift-index.js';
import { containerEventTargets, hostEventTargets, linkNames, nftBatchTargets, type LinkNames } from '../event-targets.js';
import { createNamespaceWatcher } from '../netns-watch.js';
import { goneAdvice } from '../../service/gone.js';
import { releaseGone } from '../release.js';
import { requireHost, type Role } from '../role.js';
import type { Target } from '../targets.js';

/** /proc/PID/ns/net paths cannot be watched; how often they are looked at. */
const PROC_CHECK_MS = 5_000;
const HOST_GROUPS = ['link', 'neighbour', 'ipv4Address', 'ipv6Address', 'ipv4Netconf', 'ipv6Netconf'] as const;

const describe = (e: RtnlEvent, where: string, names?: LinkNames): string => {
  const verb = e.kind !== 'netconf' && e.op === 'del' ? 'removed' : 'changed';
  switch (e.kind) {
    case 'link':
      return `link ${e.name}${where} ${e.op === 'del' ? 'deleted' : 'changed'}`;
    case 'address':
      return `address ${e.address}/${e.prefixLength}${where} ${verb}`;
    case 'route':
      return `route ${e.destination}${where} ${verb}`;
    case 'neighbour':
      return `${e.bridge ? 'fdb' : 'neighbour'} entry on ${names?.name(e.index) ?? `#${e.index}`} ${verb}`;
    case 'netconf':
      return `IPv${e.family} forwarding ${e.forwarding === false ? 'off' : 'changed'}`;
  }
};

const localNamespaces = (index: DriftIndex): Set<string> => new Set(index.namespaces.keys());

export const repairRole: Role = {
  name: 'repair',
  usesHostState: true,
  async start(d) {
    const { ctx, repairer, feed } = requireHost(d, 'repair');
    const log = (line: string): void => d.log(`repair: ${line}`);
    const counts = { host: 0, nft: 0, container: 0, overruns: 0 };
    const request = (targets: readonly Target[], reason: string, certain = false): void => {
      for (const t of targets) repairer.request(t, reason, certain);
    };
    /** A removal (or forwarding off) is never the echo of tnet making a wanted object. */
    const removal = (e: RtnlEvent): boolean => e.kind === 'netconf' || e.op === 'del';

    let index = driftIndex(await loadHostRecords(ctx));
    let hostNames: LinkNames = linkNames();
    const nsNames = new Map<string, LinkNames>();
    /** CLI endpoints whose namespace is gone, kept and reported (release.ts). */
    const kept = new Map<string, Endpoint>();

    const onHostEvents = (events: readonly RtnlEvent[]): void => {
      counts.host += events.length;
      for (const e of events) {
        const previous = hostNames.track(e);
        request(hostEventTargets(index, hostNames, e, previous), describe(e, '', hostNames), removal(e));
      }
    };
    const lost = (why: string, targets: readonly Target[]): void => {
      counts.overruns++;
      log(`events lost (${why}); looking again`);
      request(targets, `events lost: ${why}`);
    };

    const released = async (ids: ReadonlySet<string>): Promise<void> => {
      if (ids.size === 0) return;
      const r = await repairer.exclusive(() => releaseGone(ctx, ids));
      for (const e of r.released) log(`endpoint ${e.network}/${e.netns} (container ${e.owner.kind === 'cni' ? e.owner.containerId : '?'}): namespace gone, released as a CNI GC would`);
      for (const e of r.kept) {
        if (!kept.has(e.id)) log(goneAdvice(e));
        kept.set(e.id, e);
      }
    };
    const onGone = (paths: readonly string[]): void => {
      const ids = new Set(paths.flatMap((p) => endpointsIn(index, p)));
      for (const id of ids) repairer.request({ kind: 'endpoint', id }, 'namespace gone');
      released(ids).catch((e: unknown) => log(`releasing endpoints of gone namespaces: ${e instanceof Error ? e.message : String(e)}`));
    };

    const watcher = createNamespaceWatcher(ctx.kernel, {
      events: (path, events) => {
        counts.container += events.length;
        let names = nsNames.get(path);
        if (names === undefined) nsNames.set(path, (names = linkNames()));
        for (const e of events) {
          const previous = names.track(e);
          request(containerEventTargets(index, path, names, e, previous), describe(e, ` in ${path}`), removal(e));
        }
      },
      lost: (path, why) => lost(why, endpointsIn(index, path).map((id) => ({ kind: 'endpoint', id }))),
      gone: (path) => {
        nsNames.delete(path);
        onGone([path]);
      },
      appeared: (path) => {
        for (const id of endpointsIn(index, path)) {
          kept.delete(id);
          repairer.request({ kind: 'endpoint', id }, `namespace ${path} is back`);
        }
      },
    });

    /** New records: follow their namespaces, look at new endpoints and at the veths of gone ones. */
    const adopt = (records: HostRecords): void => {
      const before = index;
      index = driftIndex(records);
      for (const id of kept.keys()) if (!index.local.has(id)) kept.delete(id);
      onGone(watcher.follow(localNamespaces(index)));
      for (const id of index.local.keys()) if (!before.local.has(id)) repairer.request({ kind: 'endpoint', id }, 'endpoint recorded');
      for (const [name, v] of before.hostVeths) if (!index.local.has(v.endpointId)) repairer.request({ kind: 'goneLink', name }, 'endpoint removed');
    };
    let refreshing: Promise<void> | undefined;
    let again = false;
    const refresh = (): void => {
      if (refreshing !== undefined) return void (again = true);
      refreshing = loadHostRecords(ctx)
        .then(adopt, (e: unknown) => log(`reading the store: ${e instanceof Error ? e.message : String(e)}; keeping the records last read`))
        .finally(() => {
          refreshing = undefined;
          if (again) (again = false, refresh());
        });
    };

    const sockets: EventSocket[] = [];
    let stopFeed: (() => void) | undefined;
    const closeSockets = (): void => {
      for (const s of sockets) s.close();
      sockets.length = 0;
    };
    try {
      // Listen first, then read: nothing that happens from here on goes unseen.
      sockets.push(openRtnlEvents(ctx.kernel.hostNetns, HOST_GROUPS, {
        events: onHostEvents,
        lost: (why) => lost(why, [{ kind: 'full' }]),
      }, BURST_BUFFER_BYTES));
      sockets.push(openNftEvents(ctx.kernel.hostNetns, {
        events: (batches) => {
          for (const b of batches) {
            counts.nft += b.events.length;
            request(nftBatchTargets(index, b, process.pid), `nft: table inet tnet changed by pid ${b.pid}`, b.events.some((e) => e.op === 'del'));
          }
        },
        lost: (why) => lost(why, [{ kind: 'full' }]),
      }));
      hostNames = linkNames((await ctx.kernel.host.listLinks()).map((l) => [l.index, l.name] as const));
      stopFeed = await feed.subscribe(() => refresh());
      onGone(watcher.follow(localNamespaces(index)));
    } catch (e) {
      stopFeed?.();
      closeSockets();
      watcher.close();
      throw e;
    }
    refresh(); // what the store got between the first read and the subscription
    repairer.request({ kind: 'full' }, 'daemon started');

    const resync = setInterval(() => {
      refresh();
      watcher.recheck();
      repairer.request({ kind: 'full' }, 'periodic full pass');
    }, d.options.resyncMs);
    const procCheck = setInterval(() => watcher.recheck([...localNamespaces(index)].filter((p) => p.startsWith('/proc/'))), PROC_CHECK_MS);
    log(`watching the host, ${localNamespaces(index).size} container namespace(s) and table inet tnet; full pass every ${Math.round(d.options.resyncMs / 1000)} s`);

    return {
      stop: async () => {
        clearInterval(resync);
        clearInterval(procCheck);
        stopFeed?.();
        closeSockets();
        watcher.close();
        await refreshing;
      },
      status: () => ({
        namespaces: localNamespaces(index).size,
        missingNamespaces: watcher.missing(),
        goneEndpoints: [...kept.values()].map(goneAdvice),
        events: { ...counts },
        resyncSeconds: Math.round(d.options.resyncMs / 1000),
      }),
    };
  },
};
