/**
 * The embedded store for one host: a snapshot of the whole keyspace (<stateDir>/state.json) and
 * a journal of the commits made since (state.journal.<generation>, see journal.ts). A commit
 * appends one line and syncs it, so its cost does not grow with the store; once the journal
 * outgrows the snapshot, a commit writes the next generation's snapshot atomically and drops the
 * old journal. Commits run under an exclusive flock on state.lock, so the CLI and many concurrent
 * CNI plugin processes never lose an update. Reads take no lock: they see a snapshot and the
 * whole lines of its journal, that is the store as some complete commit left it.
 *
 * A kill at any point leaves one of: a torn last line, which is no commit (the next commit cuts it
 * off); a new snapshot not yet in place (the old snapshot and its journal stand); a new snapshot in
 * place, which holds every commit (its journal starts empty, and the old one is removed with the
 * next snapshot if the kill came before its removal).
 */
import type { BigIntStats } from 'node:fs';
import { closeSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { TnetError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';
import { withFileLock } from './file-lock.js';
import { journalLine, replayJournal } from './journal.js';
import { applyOps, emptyKeyspace, holds, listPrefix, parseSnapshot, serializeSnapshot, storedValue, type Keyspace } from './keyspace.js';
import { pollWatch } from './poll-watch.js';
import type { Store } from './types.js';

export interface LocalStoreOptions {
  /** How long commit and withLock wait for a lock before failing with 'busy'. */
  readonly lockTimeoutMs?: number;
  /** How often watch() reads the state files where inotify cannot tell it of changes. */
  readonly watchIntervalMs?: number;
  /** The journal size past which a commit writes a new snapshot (also never before it outgrows the snapshot). */
  readonly compactAfterBytes?: number;
}

/** Where a read got to: a snapshot and how much of its journal is applied on top of it. */
interface Loaded {
  /** The snapshot file's identity (see identityOf), '' when there is none yet. */
  readonly snapshot: string;
  readonly snapshotBytes: number;
  readonly generation: number;
  /** The snapshot's own keyspace, for replaying a journal from its start. */
  readonly base: Keyspace;
  /** The inode of the journal read, and the bytes of it applied to base to give keyspace. */
  readonly journal: bigint | undefined;
  readonly journalEnd: number;
  readonly keyspace: Keyspace;
}

/**
 * The last loads per state path, by snapshot identity: every snapshot is renamed into place as a
 * new file, so an unchanged inode, size and mtime mean unchanged content, and a journal only grows,
 * so a warm process (`tnet daemon`, `tnet cni serve`) reads only the lines added since. Two are
 * kept: what this process writes as a snapshot is known before its rename, and a read in between
 * (the store's own watch) still finds the previous one.
 */
const loads = new Map<string, readonly Loaded[]>();
const identityOf = (st: BigIntStats): string => `${st.ino}:${st.size}:${st.mtimeNs}`;
const remember = (path: string, loaded: Loaded): void => {
  loads.set(path, [loaded, ...(loads.get(path) ?? []).filter((l) => l.snapshot !== loaded.snapshot)].slice(0, 2));
};

const DEFAULT_COMPACT_AFTER_BYTES = 64 * 1024;
const journalName = (generation: number): string => `state.journal.${generation}`;
const JOURNAL_NAME = /^state\.journal\.\d+$/;

export async function openLocalStore(stateDir: string, opts: LocalStoreOptions = {}): Promise<Store> {
  const { lockTimeoutMs = 30_000, watchIntervalMs = 100, compactAfterBytes = DEFAULT_COMPACT_AFTER_BYTES } = opts;
  const statePath = join(stateDir, 'state.json');
  const commitLockPath = join(stateDir, 'state.lock');
  const locksDir = join(stateDir, 'locks');
  const journalPath = (generation: number): string => join(stateDir, journalName(generation));
  // Creates the state dir too; 0700 because the state names every container on the host.
  await fsOp('mkdir', stateDir, () => mkdir(locksDir, { recursive: true, mode: 0o700 }));

  const corrupt = (path: string, e: unknown): TnetError =>
    new TnetError('internal', `state file ${path} is corrupt: ${(e as Error).message}`, { op: 'read', target: path, cause: e });

  const readSnapshot = async (): Promise<Loaded> => {
    let text: string;
    let st: BigIntStats;
    try {
      // Identity and content from one open file: the path may be replaced in between.
      const file = await open(statePath, 'r');
      try {
        st = await file.stat({ bigint: true });
        text = await file.readFile('utf8');
      } finally {
        await file.close();
      }
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw fsError('read', statePath, e);
      return { snapshot: '', snapshotBytes: 0, generation: 0, base: emptyKeyspace, journal: undefined, journalEnd: 0, keyspace: emptyKeyspace };
    }
    let parsed;
    try {
      parsed = parseSnapshot(text);
    } catch (e) {
      throw corrupt(statePath, e);
    }
    const { generation, keyspace } = parsed;
    return { snapshot: identityOf(st), snapshotBytes: Number(st.size), generation, base: keyspace, journal: undefined, journalEnd: 0, keyspace };
  };

  /** from with the journal's lines added since it was read; undefined when there is no journal. */
  const readJournal = (from: Loaded): Loaded | undefined => {
    const path = journalPath(from.generation);
    // Synchronous: a stat or a small read of a local file costs microseconds, a trip through the
    // thread pool many times that, and an operation reads the store dozens of times.
    const st = statOrAbsent(path);
    if (st === undefined) return undefined;
    if (st.ino === from.journal && Number(st.size) === from.journalEnd) return from;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw fsError('read', path, e);
    }
    try {
      const now = fstatSync(fd, { bigint: true });
      const start = now.ino === from.journal && Number(now.size) >= from.journalEnd ? from : { ...from, journalEnd: 0, keyspace: from.base };
      const added = Buffer.alloc(Number(now.size) - start.journalEnd);
      const got = readSync(fd, added, 0, added.length, start.journalEnd);
      let replayed;
      try {
        replayed = replayJournal(start.keyspace, added.subarray(0, got), start.journalEnd);
      } catch (e) {
        throw corrupt(path, e);
      }
      return { ...start, journal: now.ino, journalEnd: start.journalEnd + replayed.consumed, keyspace: replayed.keyspace };
    } finally {
      closeSync(fd);
    }
  };

  const load = async (): Promise<Loaded> => {
    for (;;) {
      const st = statOrAbsent(statePath);
      const snapshot = st === undefined ? '' : identityOf(st);
      const from = loads.get(statePath)?.find((l) => l.snapshot === snapshot) ?? (await readSnapshot());
      const loaded = readJournal(from);
      if (loaded !== undefined) {
        remember(statePath, loaded);
        return loaded;
      }
      // No journal: no commit since the snapshot, or a new snapshot took over since the stat.
      const still = statOrAbsent(statePath);
      if ((still === undefined ? '' : identityOf(still)) === from.snapshot) {
        const unjournalled = { ...from, journal: undefined, journalEnd: 0, keyspace: from.base };
        remember(statePath, unjournalled);
        return unjournalled;
      }
    }
  };

  /** Appends line after the journal's whole lines; resolves with the journal's inode and new end. */
  const append = (loaded: Loaded, line: string): { ino: bigint; end: number } => {
    const path = journalPath(loaded.generation);
    const fd = openSync(path, 'a', 0o600);
    try {
      const { size } = fstatSync(fd);
      // What a kill in the middle of an append left: a line without its end, which no reader took.
      if (size > loaded.journalEnd) ftruncateSync(fd, loaded.journalEnd);
      const bytes = Buffer.from(line);
      try {
        if (writeSync(fd, bytes) !== bytes.length) throw new Error(`short write to ${path}`);
        fdatasyncSync(fd);
      } catch (e) {
        // A commit that failed leaves nothing a reader could take for it.
        ftruncateSync(fd, loaded.journalEnd);
        throw e;
      }
      // A new journal's name must survive a power cut as its first line does.
      if (size === 0) syncDir(stateDir);
      return { ino: fstatSync(fd, { bigint: true }).ino, end: loaded.journalEnd + bytes.length };
    } finally {
      closeSync(fd);
    }
  };

  /** Writes the next generation's snapshot, which holds every commit, and drops older journals. */
  const compact = async (loaded: Loaded): Promise<void> => {
    const generation = loaded.generation + 1;
    const keyspace = loaded.keyspace;
    // A journal of this generation can only be a leftover from a snapshot put back by hand.
    rmSync(journalPath(generation), { force: true });
    await writeFileAtomic(statePath, serializeSnapshot({ generation, keyspace }), (written) =>
      remember(statePath, { snapshot: identityOf(written), snapshotBytes: Number(written.size), generation, base: keyspace, journal: undefined, journalEnd: 0, keyspace }),
    );
    for (const name of readdirSync(stateDir)) {
      if (JOURNAL_NAME.test(name) && name !== journalName(generation)) rmSync(join(stateDir, name), { force: true });
    }
  };

  const read = async (): Promise<Keyspace> => (await load()).keyspace;
  const stopWatchers = new Set<() => void>();

  return {
    async get(key) {
      const entry = (await read()).entries.get(key);
      return entry === undefined ? undefined : storedValue(key, entry);
    },
    async list(prefix) {
      return listPrefix(await read(), prefix);
    },
    commit(compares, ops) {
      return withFileLock(commitLockPath, { timeoutMs: lockTimeoutMs }, async () => {
        const loaded = await load();
        if (!compares.every((c) => holds(loaded.keyspace, c))) return false;
        if (ops.length === 0) return true;
        const keyspace = applyOps(loaded.keyspace, ops);
        const path = journalPath(loaded.generation);
        const { ino, end } = fsOpSync('append to', path, () => append(loaded, journalLine({ revision: keyspace.revision, ops })));
        const committed = { ...loaded, journal: ino, journalEnd: end, keyspace };
        remember(statePath, committed);
        if (end > Math.max(compactAfterBytes, loaded.snapshotBytes)) {
          // The commit stands whatever happens here; a failed compaction is tried again by the next commit.
          await compact(committed).catch(() => undefined);
        }
        return true;
      });
    },
    withLock(name, fn) {
      return withFileLock(join(locksDir, lockFileName(name)), { timeoutMs: lockTimeoutMs }, fn);
    },
    async watch(prefix, onEvent) {
      const stop = await pollWatch(read, prefix, onEvent, watchIntervalMs, { dir: stateDir, names: isStateFile });
      const cancel = (): void => {
        stop();
        stopWatchers.delete(cancel);
      };
      stopWatchers.add(cancel);
      return cancel;
    },
    async close() {
      for (const cancel of stopWatchers) cancel();
    },
  };
}

/** The files whose changes are commits: the snapshot renamed into place and journal appends. */
const isStateFile = (name: string): boolean => name === 'state.json' || JOURNAL_NAME.test(name);

const statOrAbsent = (path: string): BigIntStats | undefined => {
  try {
    return statSync(path, { bigint: true });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw fsError('read', path, e);
  }
};

const syncDir = (dir: string): void => {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

/** Any name maps to a distinct, safe file name ('/' and '..' cannot escape locks/). */
const lockFileName = (name: string): string => {
  const encoded = encodeURIComponent(name);
  if (name === '' || encoded.length > 200) {
    throw new TnetError('invalidInput', `lock name ${JSON.stringify(name)} must be 1 to 200 characters once URI-encoded`, {
      op: 'withLock',
      target: name,
    });
  }
  return `${encoded}.lock`;
};

const errnoCode = (e: unknown): string | undefined =>
  e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;

const fsError = (op: string, path: string, e: unknown): TnetError => {
  const code = errnoCode(e);
  const kind = code === 'EACCES' || code === 'EPERM' ? 'permission' : 'kernel';
  return new TnetError(kind, `cannot ${op} ${path}: ${(e as Error).message}`, { op, target: path, cause: e });
};

/** Runs a filesystem call, turning its failure into a TnetError that names the path. */
const fsOp = <T>(op: string, path: string, fn: () => Promise<T>): Promise<T> =>
  fn().catch((e: unknown) => {
    throw fsError(op, path, e);
  });

const fsOpSync = <T>(op: string, path: string, fn: () => T): T => {
  try {
    return fn();
  } catch (e) {
    throw fsError(op, path, e);
  }
};
