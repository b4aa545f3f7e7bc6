/**
 * The listeners: UDP and TCP port 53 on every gateway address the zone names, in the host
 * namespace, and what happens to each message that arrives on them. Listeners are diffed against
 * the zone on every change: an address that stays keeps its sockets (and the queries in flight on
 * them; aardvark-dns#389 loses lookups by restarting them), a new one gets its own, a gone one is
 * closed. Each query gets at most one reply; nothing a sender does can throw out of here.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import type { Server, Socket } from 'node:net';
import { tcpServerIn, udpSocketIn } from '../kernel/sockets.js';
import type { NetnsHandle } from '../kernel/types.js';
import { decide } from './answer.js';
import type { Forwarder } from './forwarder.js';
import { headerReply, MAX_QUERY_BYTES, parseQuery, RCODE, withId, type Query, type Transport } from './message.js';
import { canonicalAddress, type Asker, type Zone } from './zone.js';

export interface DnsServerOptions {
  readonly netns: NetnsHandle;
  readonly port: number;
  readonly zone: () => Zone;
  /** Brings the zone up to date with the store (coalesced): called before a tnet name is declared missing. */
  readonly refresh: () => Promise<void>;
  readonly forwarder: Forwarder;
  readonly log: (line: string) => void;
}

export interface DnsServer {
  /** Opens and closes listeners to match the zone; returns the addresses that failed to open. */
  sync(zone: Zone): string[];
  /** The addresses listened on now. */
  addresses(): string[];
  close(): Promise<void>;
}

/** A TCP asker may pipeline; more than this many unanswered queries on one connection closes it. */
const MAX_TCP_PENDING = 64;
const TCP_IDLE_MS = 10_000;
const MAX_TCP_CONNECTIONS = 512;

export const createDnsServer = (o: DnsServerOptions): DnsServer => {
  const listeners = new Map<string, { udp: UdpSocket; tcp: Server; connections: Set<Socket> }>();

  type Outcome = Buffer | undefined | Promise<Buffer | undefined>;

  /**
   * Local replies are the same for every asker on the same networks until the zone changes: each
   * zone keeps the replies it made, by the query's bytes but its id (question as asked, flags,
   * EDNS) and the asker's networks, so a repeated question costs neither dns-packet's decoding nor
   * its encoding. A rebuilt zone starts with none.
   */
  const encoded = new WeakMap<Zone, Map<string, Buffer>>();
  const MAX_ENCODED = 50_000;
  const memoOf = (zone: Zone): Map<string, Buffer> => {
    let memo = encoded.get(zone);
    if (memo === undefined) encoded.set(zone, (memo = new Map()));
    return memo;
  };
  const memoKey = (raw: Buffer, asker: Asker, transport: Transport): string => `${asker.networks.join(',')}|${transport}|${raw.toString('latin1', 2)}`;
  const askerAt = (zone: Zone, from: string, address: string): Asker | undefined => {
    const network = zone.listeners.get(address);
    return network === undefined ? undefined : zone.askerOf(from, network);
  };

  /** One look at the zone: a reply, a forward in progress, or a tnet name the zone does not know. */
  const attempt = (q: Query, raw: Buffer, from: string, address: string, transport: Transport, final: boolean): Outcome | 'miss' => {
    const zone = o.zone();
    const asker = askerAt(zone, from, address);
    // Not an endpoint of this network (another network's container, the host, anything else): no open resolver.
    if (asker === undefined) return headerReply(raw, RCODE.refused);
    const decision = decide(zone, q, asker, transport, final);
    if (decision.kind === 'miss') return 'miss';
    if (decision.kind === 'forward') return o.forwarder.forward(q, transport);
    const memo = memoOf(zone);
    if (memo.size < MAX_ENCODED) memo.set(memoKey(raw, asker, transport), decision.response);
    return decision.response;
  };

  /** The reply to one message from source, arrived on the listener of address; undefined: none. */
  const handle = (raw: Buffer, source: string, address: string, transport: Transport): Outcome => {
    const from = canonicalAddress(source) ?? source;
    if (raw.length >= 12 && raw.length <= MAX_QUERY_BYTES) {
      const zone = o.zone();
      const asker = askerAt(zone, from, address);
      const known = asker === undefined ? undefined : memoOf(zone).get(memoKey(raw, asker, transport));
      if (known !== undefined) return withId(known, raw.readUInt16BE(0));
    }
    const parsed = parseQuery(raw);
    if (parsed.kind === 'drop') return undefined;
    if (parsed.kind === 'reply') return parsed.response;
    const q = parsed.query;
    const first = attempt(q, raw, from, address, transport, false);
    if (first !== 'miss') return first;
    // A tnet name missing from the zone may have been connected a moment ago: look again, once
    // (with the zone as it is, should the store be unreachable just now).
    return o.refresh().catch(() => undefined).then(() => {
      const again = attempt(q, raw, from, address, transport, true);
      return again === 'miss' ? undefined : again; // decide never misses when final
    });
  };

  /** Sends the reply, now or once it is known; nothing a sender does may throw out of here. */
  const deliver = (what: string, outcome: () => Outcome, send: (b: Buffer) => void): void => {
    const fail = (e: unknown): void => o.log(`dns: ${what}: ${e instanceof Error ? e.message : String(e)}`);
    try {
      const r = outcome();
      if (r === undefined) return;
      if (Buffer.isBuffer(r)) send(r);
      else r.then((reply) => reply !== undefined && send(reply)).catch(fail);
    } catch (e) {
      fail(e);
    }
  };

  const serveTcp = (address: string, connections: Set<Socket>) => (conn: Socket): void => {
    connections.add(conn);
    let buffered: Buffer = Buffer.alloc(0);
    let pending = 0;
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    conn.on('close', () => connections.delete(conn));
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + message.length);
        if (++pending > MAX_TCP_PENDING) return void conn.destroy();
        const outcome = (): Outcome => {
          const r = handle(Buffer.from(message), conn.remoteAddress ?? '', address, 'tcp');
          if (r instanceof Promise) return r.finally(() => pending--);
          pending--;
          return r;
        };
        deliver(`TCP query from ${conn.remoteAddress ?? '?'}`, outcome, (reply) => {
          if (conn.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          conn.write(Buffer.concat([len, reply]));
        });
      }
    });
  };

  const open = (address: string): void => {
    const udp = udpSocketIn(o.netns, address, o.port, true);
    let tcp: Server;
    const connections = new Set<Socket>();
    try {
      tcp = tcpServerIn(o.netns, address, o.port, serveTcp(address, connections), true);
    } catch (e) {
      udp.close();
      throw e;
    }
    tcp.maxConnections = MAX_TCP_CONNECTIONS;
    udp.on('message', (msg: Buffer, rinfo) => {
      // A failed send (the asker's address unreachable) surfaces as the socket's 'error', logged below.
      deliver(`UDP query from ${rinfo.address}`, () => handle(msg, rinfo.address, address, 'udp'), (reply) => udp.send(reply, rinfo.port, rinfo.address));
    });
    udp.on('error', (e) => o.log(`dns: UDP ${address}: ${e.message}`));
    tcp.on('error', (e) => o.log(`dns: TCP ${address}: ${e.message}`));
    listeners.set(address, { udp, tcp, connections });
    o.log(`dns: listening on ${address.includes(':') ? `[${address}]` : address}:${o.port} (udp, tcp)`);
  };

  const closeOne = (address: string): Promise<void> => {
    const l = listeners.get(address);
    if (l === undefined) return Promise.resolve();
    listeners.delete(address);
    l.udp.close();
    for (const c of l.connections) c.destroy();
    o.log(`dns: stopped listening on ${address}`);
    return new Promise((resolve) => l.tcp.close(() => resolve()));
  };

  return {
    sync: (zone) => {
      const failed: string[] = [];
      for (const address of listeners.keys()) if (!zone.listeners.has(address)) void closeOne(address);
      for (const address of zone.listeners.keys()) {
        if (listeners.has(address)) continue;
        try {
          open(address);
        } catch (e) {
          failed.push(address);
          o.log(`dns: cannot listen on ${address}:${o.port}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      return failed;
    },
    addresses: () => [...listeners.keys()],
    close: async () => {
      await Promise.all([...listeners.keys()].map(closeOne));
    },
  };
};
