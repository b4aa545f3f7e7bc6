/**
 * The local store's whole keyspace as one immutable value, and the pure operations on it:
 * checking compares, applying writes, and diffing two snapshots into watch events.
 * Revisions work like etcd's: one global counter, bumped once per commit; each key remembers
 * the revision of the commit that last wrote it.
 */
import { isRecord } from '../model/fields.js';
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
 * times, and the store holds every endpoint of the host). applyOps carries the order forward.
 */
const sortedKeys = new WeakMap<Keyspace, readonly string[]>();
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const keysInOrder = (ks: Keyspace): readonly string[] => {
  let keys = sortedKeys.get(ks);
  if (keys === undefined) sortedKeys.set(ks, (keys = [...ks.entries.keys()].sort(byCodeUnit)));
  return keys;
};

/** The index of the first key not below prefix. */
const lowerBound = (keys: readonly string[], prefix: string): number => {
  let lo = 0;
  for (let hi = keys.length; lo < hi; ) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

const keysUnder = (ks: Keyspace, prefix: string): readonly string[] => {
  const keys = keysInOrder(ks);
  const from = lowerBound(keys, prefix);
  let to = from;
  while (to < keys.length && (keys[to] as string).startsWith(prefix)) to++;
  return keys.slice(from, to);
};

export const listPrefix = (ks: Keyspace, prefix: string): StoredValue[] =>
  keysUnder(ks, prefix).map((key) => storedValue(key, ks.entries.get(key) as Entry));

export const holds = (ks: Keyspace, c: Compare): boolean => {
  const entry = ks.entries.get(c.key);
  return 'absent' in c ? entry === undefined : entry !== undefined && String(entry.revision) === c.revision;
};

/** One commit's writes, and the revision the commit made. */
export interface Commit {
  readonly revision: number;
  readonly ops: readonly WriteOp[];
}

export const applyOps = (ks: Keyspace, ops: readonly WriteOp[]): Keyspace => applyCommits(ks, [{ revision: ks.revision + 1, ops }]);

/** The keyspace after commits, which follow ks in revision order (a journal replayed in one go). */
export const applyCommits = (ks: Keyspace, commits: readonly Commit[]): Keyspace => {
  if (commits.length === 0) return ks;
  const entries = new Map(ks.entries);
  for (const { revision, ops } of commits) {
    for (const op of ops) {
      if (op.op === 'put') entries.set(op.key, { value: op.value, revision });
      else entries.delete(op.key);
    }
  }
  const next = { revision: (commits[commits.length - 1] as Commit).revision, entries };
  const before = sortedKeys.get(ks);
  const written = commits.flatMap((c) => c.ops.map((op) => op.key));
  // A commit touches a few keys of thousands: moving them in the old order beats sorting anew.
  if (before !== undefined && written.length <= MOVE_KEYS_UP_TO) sortedKeys.set(next, withKeysMoved(before, ks.entries, entries, written));
  return next;
};

/** Past this many written keys a fresh sort (done on the next list) is cheaper than moving each. */
const MOVE_KEYS_UP_TO = 64;

const withKeysMoved = (
  before: readonly string[],
  was: ReadonlyMap<string, Entry>,
  now: ReadonlyMap<string, Entry>,
  written: readonly string[],
): readonly string[] => {
  const keys = [...before];
  for (const key of written) {
    const at = lowerBound(keys, key);
    const listed = keys[at] === key;
    if (now.has(key) && !listed) keys.splice(at, 0, key);
    else if (!now.has(key) && listed && was.has(key)) keys.splice(at, 1);
  }
  return keys;
};

/** The changes under prefix from before to after, in key order; a rewrite counts as a put. */
export const diffKeyspaces = (before: Keyspace, after: Keyspace, prefix: string): WatchEvent[] => {
  const [was, now] = [keysUnder(before, prefix), keysUnder(after, prefix)];
  const events: WatchEvent[] = [];
  // A walk of the two ordered key lists side by side: no set of all keys and no sort per change.
  for (let i = 0, j = 0; i < was.length || j < now.length; ) {
    const [w, n] = [was[i], now[j]];
    if (n === undefined || (w !== undefined && w < n)) {
      events.push({ type: 'delete', key: w as string });
      i++;
      continue;
    }
    const entry = after.entries.get(n) as Entry;
    if (w !== n || before.entries.get(n)?.revision !== entry.revision) {
      events.push({ type: 'put', key: n, value: entry.value, revision: String(entry.revision) });
    }
    if (w === n) i++;
    j++;
  }
  return events;
};

/**
 * A snapshot of the keyspace as the local store keeps it. generation names the journal that
 * continues it (see local.ts); format 1 files came before journals and continue with journal 0.
 */
export interface Snapshot {
  readonly generation: number;
  readonly keyspace: Keyspace;
}

const FORMAT = 2;

export const serializeSnapshot = ({ generation, keyspace }: Snapshot): string =>
  JSON.stringify({ format: FORMAT, generation, revision: keyspace.revision, entries: Object.fromEntries(keyspace.entries) });

/** Parses a snapshot's text; throws a plain Error saying what is wrong (the caller names the file). */
export const parseSnapshot = (text: string): Snapshot => {
  const doc: unknown = JSON.parse(text);
  if (!isRecord(doc) || (doc['format'] !== 1 && doc['format'] !== FORMAT)) throw new Error(`expected an object with "format": 1 or ${FORMAT}`);
  const { revision, entries } = doc;
  const generation = doc['format'] === 1 ? 0 : doc['generation'];
  if (!isRevision(generation)) throw new Error('"generation" must be a non-negative integer');
  if (!isRevision(revision)) throw new Error('"revision" must be a non-negative integer');
  if (!isRecord(entries)) throw new Error('"entries" must be an object');
  const map = new Map<string, Entry>();
  for (const [key, e] of Object.entries(entries)) {
    if (!isRecord(e) || typeof e['value'] !== 'string' || !isRevision(e['revision']) || e['revision'] > revision) {
      throw new Error(`entry ${JSON.stringify(key)} must be {value: string, revision: integer <= ${revision}}`);
    }
    map.set(key, { value: e['value'], revision: e['revision'] });
  }
  return { generation, keyspace: { revision, entries: map } };
};

export const isRevision = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
