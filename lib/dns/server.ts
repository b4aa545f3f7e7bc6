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
import { headerReply, parseQuery, RCODE, type Transport } from './message.js';
import { canonicalAddress, type Zone } from './zone.js';

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

  /** The reply to one message from source, arrived on the listener of address; undefined: none. */
  const handle = async (raw: Buffer, source: string, address: string, transport: Transport): Promise<Buffer | undefined> => {
    const parsed = parseQuery(raw);
    if (parsed.kind === 'drop') return undefined;
    if (parsed.kind === 'reply') return parsed.response;
    const q = parsed.query;
    const from = canonicalAddress(source) ?? source;
    const askerNow = (): ReturnType<Zone['askerOf']> => {
      const zone = o.zone();
      const network = zone.listeners.get(address);
      return network === undefined ? undefined : zone.askerOf(from, network);
    };
    // A tnet name missing from the zone may have been connected a moment ago: look again, once.
    for (const final of [false, true]) {
      const asker = askerNow();
      // Not an endpoint of this network (another network's container, the host, anything else): no open resolver.
      if (asker === undefined) return headerReply(raw, RCODE.refused);
      const decision = decide(o.zone(), q, asker, transport, final);
      if (decision.kind === 'reply') return decision.response;
      if (decision.kind === 'forward') return o.forwarder.forward(q, transport);
      await o.refresh();
    }
    return undefined; // decide never misses when final
  };

  const safely = (what: string, p: Promise<Buffer | undefined>, send: (b: Buffer) => void): void => {
    p.then((reply) => reply !== undefined && send(reply)).catch((e: unknown) => {
      o.log(`dns: ${what}: ${e instanceof Error ? e.message : String(e)}`);
    });
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
        safely(`TCP query from ${conn.remoteAddress ?? '?'}`, handle(Buffer.from(message), conn.remoteAddress ?? '', address, 'tcp').finally(() => pending--), (reply) => {
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
      safely(`UDP query from ${rinfo.address}`, handle(msg, rinfo.address, address, 'udp'), (reply) => {
        udp.send(reply, rinfo.port, rinfo.address, (e) => e && o.log(`dns: reply to ${rinfo.address}: ${e.message}`));
      });
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
