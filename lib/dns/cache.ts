/**
 * Upstream answers kept within their TTL (RFC 1035 4.1.3; negative answers per RFC 2308: the
 * SOA's minimum), handed out with the TTLs counted down. Bounded: the oldest entry goes first
 * when it is full. Pure (clock given).
 */
import type { Answer, DecodedPacket } from 'dns-packet';

export interface CachedReply {
  readonly packet: DecodedPacket;
  /** Whole seconds since it was stored: every TTL in it is to be lowered by this. */
  readonly age: number;
}

export interface AnswerCache {
  get(key: string): CachedReply | undefined;
  put(key: string, packet: DecodedPacket): void;
  readonly size: number;
}

/** Only these are worth keeping: a server failure or refusal may be gone on the next try. */
const CACHEABLE_RCODES = new Set(['NOERROR', 'NXDOMAIN']);

const ttlOf = (p: DecodedPacket, maxTtl: number): number => {
  const records = [...(p.answers ?? []), ...(p.authorities ?? [])].filter((r) => r.type !== 'OPT');
  const answers = (p.answers ?? []).filter((r) => r.type !== 'OPT');
  if (answers.length > 0) return Math.min(maxTtl, ...answers.map((r) => ('ttl' in r ? r.ttl ?? 0 : 0)));
  const soa = records.find((r) => r.type === 'SOA');
  if (soa?.type !== 'SOA') return 0; // a negative answer without SOA: not to be cached (RFC 2308 5)
  return Math.min(maxTtl, soa.ttl ?? 0, soa.data.minimum ?? 0);
};

export const createAnswerCache = (now: () => number, maxEntries: number, maxTtl: number): AnswerCache => {
  const entries = new Map<string, { packet: DecodedPacket; storedAt: number; expires: number }>();
  return {
    get: (key) => {
      const e = entries.get(key);
      if (e === undefined) return undefined;
      const t = now();
      if (t >= e.expires) {
        entries.delete(key);
        return undefined;
      }
      return { packet: e.packet, age: Math.floor((t - e.storedAt) / 1000) };
    },
    put: (key, packet) => {
      const rcode = (packet as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
      if (!CACHEABLE_RCODES.has(rcode) || packet.flag_tc) return;
      const ttl = ttlOf(packet, maxTtl);
      if (ttl <= 0) return;
      entries.delete(key);
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      const t = now();
      entries.set(key, { packet, storedAt: t, expires: t + ttl * 1000 });
    },
    get size() {
      return entries.size;
    },
  };
};

/** The records of a cached reply with their TTLs lowered by its age. */
export const agedRecords = (records: readonly Answer[] | undefined, age: number): Answer[] =>
  (records ?? []).filter((r) => r.type !== 'OPT').map((r) => ('ttl' in r ? { ...r, ttl: Math.max(0, (r.ttl ?? 0) - age) } : r) as Answer);
