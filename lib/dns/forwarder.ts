/**
 * Forwards names that are not tnet's to the host's upstream resolvers, from the host namespace
 * (so a stub on the host's loopback, such as systemd-resolved's 127.0.0.53, works). Upstreams are
 * tried in order with a short timeout each, one that timed out is tried last for a while
 * (upstreams.ts), identical questions in flight share one upstream query, and answers are cached
 * within their TTL (cache.ts). A slow or dead upstream delays only the forwarded names: local
 * names never come here. Every call resolves to exactly one reply.
 */
import { randomFillSync } from 'node:crypto';
import type { Socket as UdpSocket } from 'node:dgram';
import type { DecodedPacket } from 'dns-packet';
import { anyAddress, tcpConnectIn, udpSocketIn } from '../kernel/sockets.js';
import type { NetnsHandle } from '../kernel/types.js';
import { agedRecords, createAnswerCache } from './cache.js';
import { encodeReply, isTruncated, maxResponseBytes, parseUpstreamReply, RCODE, rcodeOf, replyRcode, withId, type Query, type Rcode, type Transport } from './message.js';
import { createUpstreamPolicy } from './upstreams.js';
import { canonicalAddress } from './zone.js';

export interface ForwarderOptions {
  readonly netns: NetnsHandle;
  /** The upstreams now, in order (the host's resolv.conf, re-read when it changes). */
  readonly upstreams: () => readonly string[];
  readonly port?: number;
  /** One upstream's time to answer before the next is tried. */
  readonly attemptMs?: number;
  /** All upstreams' time together; then SERVFAIL. */
  readonly deadlineMs?: number;
  /** How long an upstream that timed out goes to the back of the line. */
  readonly penaltyMs?: number;
  /** Distinct questions waiting on upstreams at once; beyond, SERVFAIL at once (a flood must not grow memory). */
  readonly maxInFlight?: number;
  readonly log: (line: string) => void;
  readonly now?: () => number;
}

export interface Forwarder {
  forward(q: Query, transport: Transport): Promise<Buffer>;
  close(): void;
}

interface UpstreamReply {
  readonly raw: Buffer;
  readonly packet: DecodedPacket;
}

const SOCKETS_PER_FAMILY = 4;

/** Query ids and socket choices an off-path attacker cannot guess (RFC 5452), drawn in batches: one syscall per 4096. */
const randomSource = () => {
  const pool = new Uint16Array(4096);
  let next = pool.length;
  return (below: number): number => {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    return (pool[next++] ?? 0) % below;
  };
};
const random = randomSource();
const RETRY_NEXT = new Set<number>([RCODE.servFail, RCODE.notImp, RCODE.refused]);

/** A pool of UDP sockets, each with its own pending ids; replies are matched by id, sender and question. */
const createUdpPool = (netns: NetnsHandle, port: number, log: (line: string) => void) => {
  interface Pending { readonly upstream: string; readonly q: Query; readonly done: (r: UpstreamReply) => void }
  const pools = new Map<4 | 6, Array<{ socket: UdpSocket; pending: Map<number, Pending> }>>();
  const poolFor = (family: 4 | 6) => {
    let pool = pools.get(family);
    if (pool !== undefined) return pool;
    pool = Array.from({ length: SOCKETS_PER_FAMILY }, () => {
      const socket = udpSocketIn(netns, anyAddress(family), 0);
      const pending = new Map<number, Pending>();
      socket.on('message', (msg: Buffer, rinfo) => {
        if (msg.length < 2) return;
        const p = pending.get(msg.readUInt16BE(0));
        if (p === undefined || canonicalAddress(rinfo.address) !== p.upstream || rinfo.port !== port) return;
        const packet = parseUpstreamReply(msg, p.q.question);
        if (packet === undefined) return; // a forged or broken reply: keep waiting for the real one
        pending.delete(msg.readUInt16BE(0));
        p.done({ raw: msg, packet });
      });
      socket.on('error', (e) => log(`dns: upstream socket: ${e.message}`));
      return { socket, pending };
    });
    pools.set(family, pool);
    return pool;
  };
  return {
    ask: (upstream: string, q: Query, timeoutMs: number): Promise<UpstreamReply | undefined> =>
      new Promise((resolve) => {
        const family = upstream.includes(':') ? 6 : 4;
        const pool = poolFor(family);
        const slot = pool[random(pool.length)] ?? pool[0];
        if (slot === undefined) return resolve(undefined);
        let id = random(0x10000);
        while (slot.pending.has(id)) id = random(0x10000);
        const timer = setTimeout(() => {
          slot.pending.delete(id);
          resolve(undefined);
        }, timeoutMs);
        slot.pending.set(id, { upstream, q, done: (r) => (clearTimeout(timer), resolve(r)) });
        slot.socket.send(withId(q.raw, id), port, upstream, (e) => {
          if (e === null) return;
          clearTimeout(timer);
          slot.pending.delete(id);
          resolve(undefined);
        });
      }),
    close: () => {
      for (const pool of pools.values()) for (const { socket } of pool) socket.close();
      pools.clear();
    },
  };
};

/** One query over TCP (for a reply the upstream truncated): length-prefixed both ways (RFC 1035 4.2.2). */
const askTcp = (netns: NetnsHandle, upstream: string, port: number, q: Query, timeoutMs: number): Promise<UpstreamReply | undefined> =>
  new Promise((resolve) => {
    let conn: ReturnType<typeof tcpConnectIn>;
    try {
      conn = tcpConnectIn(netns, upstream, port);
    } catch {
      return resolve(undefined);
    }
    let settled = false;
    const finish = (r: UpstreamReply | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const id = random(0x10000);
    let buffered: Buffer = Buffer.alloc(0);
    conn.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.raw.length);
      conn.write(Buffer.concat([len, withId(q.raw, id)]));
    });
    conn.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      const raw = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
      const packet = raw.length >= 2 && raw.readUInt16BE(0) === id ? parseUpstreamReply(raw, q.question) : undefined;
      finish(packet === undefined ? undefined : { raw, packet });
    });
    conn.on('error', () => finish(undefined));
    conn.on('close', () => finish(undefined));
  });

const cacheKey = (q: Query, transport: Transport): string =>
  `${q.question.name.toLowerCase()}|${q.question.type}|${q.edns?.dnssecOk === true ? 'do' : ''}|${q.cd ? 'cd' : ''}|${transport}`;

export const createForwarder = (o: ForwarderOptions): Forwarder => {
  const now = o.now ?? Date.now;
  const port = o.port ?? 53;
  const attemptMs = o.attemptMs ?? 800;
  const deadlineMs = o.deadlineMs ?? 2_500;
  const maxInFlight = o.maxInFlight ?? 4_096;
  const policy = createUpstreamPolicy(now, o.penaltyMs ?? 30_000);
  const cache = createAnswerCache(now, 10_000, 3_600);
  const udp = createUdpPool(o.netns, port, o.log);
  const inFlight = new Map<string, Promise<UpstreamReply | undefined>>();

  const askUpstreams = async (q: Query, transport: Transport): Promise<UpstreamReply | undefined> => {
    const started = now();
    let last: UpstreamReply | undefined;
    for (const upstream of policy.order(o.upstreams())) {
      const left = deadlineMs - (now() - started);
      if (left <= 0) break;
      let reply = await udp.ask(upstream, q, Math.min(attemptMs, left));
      if (reply === undefined) {
        // Said once when it starts failing, not for every query while it stays dead.
        if (!policy.failing(upstream)) o.log(`dns: upstream ${upstream} did not answer ${q.question.name} ${q.question.type} within ${Math.min(attemptMs, left)} ms; trying it last for a while`);
        policy.failed(upstream);
        continue;
      }
      policy.answered(upstream);
      if (isTruncated(reply.raw) && transport === 'tcp') reply = (await askTcp(o.netns, upstream, port, q, Math.max(1, deadlineMs - (now() - started)))) ?? reply;
      if (!RETRY_NEXT.has(rcodeOf(reply.raw))) return reply;
      last = reply;
    }
    return last;
  };

  /** The reply for this asker: its id and question, TTLs counted down, fitted to its transport. */
  const replyFrom = (q: Query, transport: Transport, packet: DecodedPacket, age: number, raw?: Buffer): Buffer => {
    const limit = maxResponseBytes(q, transport);
    // Fresh from upstream for the asker whose question went out: its bytes as they came, but the id.
    if (raw !== undefined && raw.length <= limit && packet.questions?.[0]?.name === q.question.name) return withId(raw, q.id);
    try {
      return encodeReply(q, {
        rcode: ((packet.flags ?? 0) & 0xf) as Rcode,
        answers: agedRecords(packet.answers, age),
        authorities: agedRecords(packet.authorities, age),
        additionals: agedRecords(packet.additionals, age),
        authoritative: false,
        recursionAvailable: true,
      }, limit);
    } catch {
      // A record dns-packet decodes but cannot encode again: pass the upstream's bytes on.
      return raw !== undefined && raw.length <= limit ? withId(raw, q.id) : replyRcode(q, RCODE.servFail, true, limit);
    }
  };

  return {
    forward: async (q, transport) => {
      // A UDP asker gets a truncated reply as it came; it asks again over TCP, and then so do we.
      const key = cacheKey(q, transport === 'tcp' ? 'tcp' : 'udp');
      const hit = cache.get(key);
      if (hit !== undefined) return replyFrom(q, transport, hit.packet, hit.age);
      let pending = inFlight.get(key);
      if (pending === undefined) {
        if (inFlight.size >= maxInFlight) return replyRcode(q, RCODE.servFail, true, maxResponseBytes(q, transport));
        pending = askUpstreams(q, transport).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      const reply = await pending;
      if (reply === undefined) return replyRcode(q, RCODE.servFail, true, maxResponseBytes(q, transport));
      cache.put(key, reply.packet);
      return replyFrom(q, transport, reply.packet, 0, reply.raw);
    },
    close: () => udp.close(),
  };
};
