/**
 * The embedded store for one host: the whole keyspace in one JSON file (<stateDir>/state.json)
 * replaced atomically, so a multi-key commit is all-or-nothing even across a crash. Commits
 * read-modify-write under an exclusive flock on state.lock, so the CLI and many concurrent CNI
 * plugin processes never lose an update. Reads take no lock: rename is atomic, so a reader sees
 * either the previous or the next complete file.
 */
import type { BigIntStats } from 'node:fs';
import { statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TnetError } from '../errors.js';
import { writeFileAtomic } from './atomic-file.js';
import { withFileLock } from './file-lock.js';
import { applyOps, emptyKeyspace, holds, listPrefix, parseKeyspace, serializeKeyspace, storedValue, type Keyspace } from './keyspace.js';
import { pollWatch } from './poll-watch.js';
import type { Store } from './types.js';

export interface LocalStoreOptions {
  /** How long commit and withLock wait for a lock before failing with 'busy'. */
  readonly lockTimeoutMs?: number;
  /** How often watch() reads the state file where inotify cannot tell it of changes. */
  readonly watchIntervalMs?: number;
}

/**
 * The last parsed state files per path, keyed by their identity: every write renames a new file
 * into place, so an unchanged inode, size and mtime mean unchanged content. One operation's
 * several reads, and a warm process's next operations (`tnet cni serve`, the agent), then parse
 * the file once instead of once each; it grows with every endpoint. Two are kept: what this
 * process is writing is known before its rename, and a read in between (the store's own watch,
 * woken by the rename) still finds the previous file.
 */
type Parsed = { readonly identity: string; readonly keyspace: Keyspace };
const parsedFiles = new Map<string, readonly Parsed[]>();
const identityOf = (st: BigIntStats): string => `${st.ino}:${st.size}:${st.mtimeNs}`;
const remember = (path: string, parsed: Parsed): void => {
  parsedFiles.set(path, [parsed, ...(parsedFiles.get(path) ?? []).filter((p) => p.identity !== parsed.identity)].slice(0, 2));
};

export async function openLocalStore(stateDir: string, opts: LocalStoreOptions = {}): Promise<Store> {
  const { lockTimeoutMs = 30_000, watchIntervalMs = 100 } = opts;
  const statePath = join(stateDir, 'state.json');
  const commitLockPath = join(stateDir, 'state.lock');
  const locksDir = join(stateDir, 'locks');
  // Creates the state dir too; 0700 because the state names every container on the host.
  await fsOp('mkdir', stateDir, () => mkdir(locksDir, { recursive: true, mode: 0o700 }));


  const read = async (): Promise<Keyspace> => {
    let text: string;
    let identity: string;
    try {
      // Synchronous: one stat of a local file costs microseconds, a trip through the thread pool
      // many times that, and an operation reads the store dozens of times.
      identity = identityOf(statSync(statePath, { bigint: true }));
      const cached = parsedFiles.get(statePath)?.find((p) => p.identity === identity);
      if (cached !== undefined) return cached.keyspace;
      text = await readFile(statePath, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return emptyKeyspace;
      throw fsError('read', statePath, e);
    }
    try {
      const keyspace = parseKeyspace(text);
      remember(statePath, { identity, keyspace });
      return keyspace;
    } catch (e) {
      throw new TnetError('internal', `state file ${statePath} is corrupt: ${(e as Error).message}`, {
        op: 'read',
        target: statePath,
        cause: e,
      });
    }
  };

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
        const ks = await read();
        if (!compares.every((c) => holds(ks, c))) return false;
        if (ops.length > 0) {
          const next = applyOps(ks, ops);
          // What this process writes needs no parse on its next read (a warm `cni serve`).
          await fsOp('write', statePath, () => writeFileAtomic(statePath, serializeKeyspace(next), (written) => remember(statePath, { identity: identityOf(written), keyspace: next })));
        }
        return true;
      });
    },
    withLock(name, fn) {
      return withFileLock(join(locksDir, lockFileName(name)), { timeoutMs: lockTimeoutMs }, fn);
    },
    async watch(prefix, onEvent) {
      const stop = await pollWatch(read, prefix, onEvent, watchIntervalMs, statePath);
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
