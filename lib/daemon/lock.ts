/**
 * One daemon per state dir: an exclusive flock on <stateDir>/daemon.lock for the daemon's life
 * (the kernel drops it when the process dies, kill -9 included), with the holder's pid written in
 * it so a second daemon can say whom it found.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TnetError } from '../errors.js';
import { tryFlock } from '../kernel/libc.js';

export const daemonLockPath = (stateDir: string): string => join(stateDir, 'daemon.lock');

export const takeDaemonLock = (stateDir: string): { release(): void } => {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = daemonLockPath(stateDir);
  const fd = openSync(path, 'a+', 0o600);
  if (!tryFlock(fd, true, path)) {
    closeSync(fd);
    const pid = (() => {
      try {
        return readFileSync(path, 'utf8').trim();
      } catch {
        return '';
      }
    })();
    throw new TnetError('conflict', `another tnet daemon${pid === '' ? '' : ` (pid ${pid})`} already serves state dir ${stateDir}; stop it first, or give this one its own --state-dir`, { target: stateDir });
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  return { release: () => closeSync(fd) };
};
