/**
 * Cross-process locks with flock(2), which Node does not expose (lib/kernel/libc.ts binds it).
 * flock locks belong to an open file description, so every acquisition opens the file anew;
 * two acquisitions in the same process then exclude each other exactly like two processes do.
 * The kernel drops the lock when the holder dies, so a crashed CNI plugin never wedges others.
 */
import { closeSync, openSync } from 'node:fs';
import { TnetError } from '../errors.js';
import { tryFlock } from '../kernel/libc.js';
import { pollUntil } from './retry.js';

export interface FileLockOptions {
  readonly shared?: boolean;
  readonly timeoutMs: number;
}

/** Takes the lock on path (created 0600 if missing); the returned function releases it. */
export async function acquireFileLock(path: string, opts: FileLockOptions): Promise<() => void> {
  const fd = openSync(path, 'a', 0o600);
  const tryLock = (): true | undefined => (tryFlock(fd, opts.shared !== true, path) ? true : undefined);
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
