/**
 * The local store's whole keyspace as one immutable value, and the pure operations on it:
 * checking compares, applying writes, and diffing two snapshots into watch events.
 * Revisions work like etcd's: one global counter, bumped once per commit; each key remembers
 * the revision of the commit that last wrote it.
 */
import type { Compare, StoredValue, WatchEvent, WriteOp } from './types.js';

export interface Entry {
  readonly value: string;
  readonly revision: number;
}

export interface Keyspace {
  readonly revision: number;
  readonly entries: ReadonlyMap<string, Entry>;
}

export const emptyKeyspace: Keyspace = { revision: 0, entries: new Map() };

export const storedValue = (key: string, entry: Entry): StoredValue => ({
  key,
  value: entry.value,
  revision: String(entry.revision),
});

/**
 * A keyspace's keys in order, sorted once per keyspace (it is immutable): a list is then a binary
 * search and the keys under the prefix, not a sort of the whole store (an operation lists many
 * times, and the store holds every endpoint of the host).
 */
const sortedKeys = new WeakMap<Keyspace, readonly string[]>();
const keysInOrder = (ks: Keyspace): readonly string[] => {
  let keys = sortedKeys.get(ks);
  if (keys === undefined) sortedKeys.set(ks, (keys = [...ks.entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))));
  return keys;
};

export const listPrefix = (ks: Keyspace, prefix: string): StoredValue[] => {
  const keys = keysInOrder(ks);
  let lo = 0;
  for (let hi = keys.length; lo < hi; ) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < prefix) lo = mid + 1;
    else hi = mid;
  }
  const found: StoredValue[] = [];
  for (let i = lo; i < keys.length && (keys[i] as string).startsWith(prefix); i++) {
    const key = keys[i] as string;
    found.push(storedValue(key, ks.entries.get(key) as Entry));
  }
  return found;
};

export const holds = (ks: Keyspace, c: Compare): boolean => {
  const entry = ks.entries.get(c.key);
  return 'absent' in c ? entry === undefined : entry !== undefined && String(entry.revision) === c.revision;
};

export const applyOps = (ks: Keyspace, ops: readonly WriteOp[]): Keyspace => {
  const revision = ks.revision + 1;
  const entries = new Map(ks.entries);
  for (const op of ops) {
    if (op.op === 'put') entries.set(op.key, { value: op.value, revision });
    else entries.delete(op.key);
  }
  return { revision, entries };
};

/** The changes under prefix from before to after, in key order; a rewrite counts as a put. */
export const diffKeyspaces = (before: Keyspace, after: Keyspace, prefix: string): WatchEvent[] => {
  const keys = new Set([...before.entries.keys(), ...after.entries.keys()]);
  const events: WatchEvent[] = [];
  for (const key of [...keys].filter((k) => k.startsWith(prefix)).sort()) {
    const old = before.entries.get(key);
    const now = after.entries.get(key);
    if (now === undefined) {
      if (old !== undefined) events.push({ type: 'delete', key });
    } else if (old?.revision !== now.revision) {
      events.push({ type: 'put', key, value: now.value, revision: String(now.revision) });
    }
  }
  return events;
};

const FORMAT = 1;

export const serializeKeyspace = (ks: Keyspace): string =>
  JSON.stringify({ format: FORMAT, revision: ks.revision, entries: Object.fromEntries(ks.entries) });

/** Parses the state file's text; throws a plain Error saying what is wrong (the caller names the file). */
export const parseKeyspace = (text: string): Keyspace => {
  const doc: unknown = JSON.parse(text);
  if (!isRecord(doc) || doc['format'] !== FORMAT) throw new Error(`expected an object with "format": ${FORMAT}`);
  const { revision, entries } = doc;
  if (!isRevision(revision)) throw new Error('"revision" must be a non-negative integer');
  if (!isRecord(entries)) throw new Error('"entries" must be an object');
  const map = new Map<string, Entry>();
  for (const [key, e] of Object.entries(entries)) {
    if (!isRecord(e) || typeof e['value'] !== 'string' || !isRevision(e['revision']) || e['revision'] > revision) {
      throw new Error(`entry ${JSON.stringify(key)} must be {value: string, revision: integer <= ${revision}}`);
    }
    map.set(key, { value: e['value'], revision: e['revision'] });
  }
  return { revision, entries: map };
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRevision = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
