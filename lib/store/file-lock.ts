/**
 * Cross-process locks with flock(2), which Node does not expose: bound from libc with koffi.
 * flock locks belong to an open file description, so every acquisition opens the file anew;
 * two acquisitions in the same process then exclude each other exactly like two processes do.
 * The kernel drops the lock when the holder dies, so a crashed CNI plugin never wedges others.
 */
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';
import { TnetError } from '../errors.js';
import { pollUntil } from './retry.js';

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EINTR = 4;
const EWOULDBLOCK = 11;

let bound: { koffi: typeof Koffi; flock: (fd: number, op: number) => number } | undefined;
// Loaded on first use (the native addon too) so importing the store costs nothing for commands
// that never lock, and a startup snapshot of the bundle holds no addon.
const libc = (): NonNullable<typeof bound> => {
  if (bound) return bound;
  const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
  return (bound = { koffi, flock: koffi.load('libc.so.6').func('int flock(int fd, int op)') as (fd: number, op: number) => number });
};

export interface FileLockOptions {
  readonly shared?: boolean;
  readonly timeoutMs: number;
}

/** Takes the lock on path (created 0600 if missing); the returned function releases it. */
export async function acquireFileLock(path: string, opts: FileLockOptions): Promise<() => void> {
  const fd = openSync(path, 'a', 0o600);
  const op = (opts.shared === true ? LOCK_SH : LOCK_EX) | LOCK_NB;
  const tryLock = (): true | undefined => {
    if (libc().flock(fd, op) === 0) return true;
    const errno = libc().koffi.errno();
    if (errno === EWOULDBLOCK || errno === EINTR) return undefined;
    throw new TnetError('kernel', `cannot lock ${path}: flock failed with errno ${errno}`, { op: 'flock', target: path });
  };
  try {
    await pollUntil(tryLock, opts.timeoutMs, () => {
      throw new TnetError('busy', `lock ${path} is still held by another process after ${opts.timeoutMs} ms`, {
        op: 'flock',
        target: path,
      });
    });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  // Closing the only descriptor of this open file description releases the lock.
  return () => closeSync(fd);
}

export async function withFileLock<T>(path: string, opts: FileLockOptions, fn: () => Promise<T>): Promise<T> {
  const release = await acquireFileLock(path, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}
