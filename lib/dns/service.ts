/**
 * The DNS role: one self-contained service a host process runs (`tnet dns serve` today, a role
 * of `tnet daemon` later), handed the app context. It keeps a zone built from the store, current
 * through the store's watch (and, for a name asked for that it does not know yet, a fresh read
 * before answering), listens on the gateways the zone names, and forwards the rest to the
 * upstreams of the host's resolv.conf, re-read when that file changes. Sockets are made in the
 * host namespace the context acts on (ctx.kernel.hostNetns), whatever namespace the process is in.
 */
import { readFileSync, statSync } from 'node:fs';
import type { ServiceContext } from '../service/context.js';
import { recordKeyOf } from '../state/repository.js';
import { createForwarder, type ForwarderOptions } from './forwarder.js';
import { nameserversOf } from './resolv-conf.js';
import { createDnsServer } from './server.js';
import { buildZone, type Zone } from './zone.js';

export interface DnsServiceOptions {
  /** The host's resolver configuration, whose nameservers are the upstreams. */
  readonly resolvConf?: string;
  /** 53 unless a test says otherwise. */
  readonly port?: number;
  readonly upstreamPort?: number;
  readonly log: (line: string) => void;
  /** Timing of forwarding (forwarder.ts); defaults suit a real host. */
  readonly forwarding?: Pick<ForwarderOptions, 'attemptMs' | 'deadlineMs' | 'penaltyMs'>;
}

export interface DnsService {
  /** The addresses listened on now. */
  addresses(): string[];
  /** Reads the store again and brings listeners and names up to date (what a store event does). */
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

export const DEFAULT_RESOLV_CONF = '/etc/resolv.conf';
/** A store event that went missing costs at most this long; also when listeners that failed are retried. */
const RESYNC_MS = 30_000;
const RESOLV_CONF_CHECK_MS = 1_000;

/** The host's nameservers, re-read when the file's identity changes (an edit, or a rename over it). */
const watchedNameservers = (path: string, log: (line: string) => void) => {
  let identity = '';
  let servers: string[] = [];
  const check = (): void => {
    let now: string;
    try {
      const st = statSync(path);
      now = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      now = 'absent';
    }
    if (now === identity) return;
    identity = now;
    try {
      servers = now === 'absent' ? [] : nameserversOf(readFileSync(path, 'utf8'));
    } catch {
      servers = [];
    }
    log(`dns: upstreams from ${path}: ${servers.join(', ') || 'none'}`);
  };
  check();
  return { check, servers: () => servers };
};

export const startDnsService = async (ctx: ServiceContext, o: DnsServiceOptions): Promise<DnsService> => {
  let zone: Zone = buildZone([], []);
  const upstreams = watchedNameservers(o.resolvConf ?? DEFAULT_RESOLV_CONF, o.log);
  const forwarder = createForwarder({
    netns: ctx.kernel.hostNetns,
    // Never to ourselves: a host whose resolv.conf names a tnet gateway would loop.
    upstreams: () => upstreams.servers().filter((u) => !zone.listeners.has(u)),
    ...(o.upstreamPort === undefined ? {} : { port: o.upstreamPort }),
    ...o.forwarding,
    log: o.log,
  });

  let refreshing: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const load = async (): Promise<void> => {
    const [networks, endpoints] = await Promise.all([ctx.repo.listNetworks(), ctx.repo.listEndpoints()]);
    zone = buildZone(networks, endpoints);
    server.sync(zone);
  };
  /** Resolves once a read that started after this call has been applied (reads in between are shared). */
  const refresh = (): Promise<void> => {
    if (refreshing === undefined) {
      refreshing = load().finally(() => (refreshing = undefined));
      return refreshing;
    }
    queued ??= refreshing.catch(() => undefined).then(() => {
      queued = undefined;
      return refresh();
    });
    return queued;
  };
  const server = createDnsServer({ netns: ctx.kernel.hostNetns, port: o.port ?? 53, zone: () => zone, refresh, forwarder, log: o.log });

  const onError = (e: unknown): void => o.log(`dns: reading the store failed (${e instanceof Error ? e.message : String(e)}); keeping the names it had`);
  await refresh();
  const stopWatch = await ctx.repo.store.watch('tnet/', (event) => {
    // Reservations change in the same commit as the record that owns them.
    if (recordKeyOf(event.key).kind !== 'reservation') refresh().catch(onError);
  });
  const timers = [
    setInterval(() => refresh().catch(onError), RESYNC_MS),
    setInterval(upstreams.check, RESOLV_CONF_CHECK_MS),
  ];
  return {
    addresses: () => server.addresses(),
    refresh,
    stop: async () => {
      stopWatch();
      for (const t of timers) clearInterval(t);
      await refreshing?.catch(() => undefined);
      await server.close();
      forwarder.close();
    },
  };
};
