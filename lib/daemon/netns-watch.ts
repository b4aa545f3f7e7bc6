/**
 * The container namespaces the daemon listens in: one rtnetlink event socket per namespace of
 * this host's endpoints (links, addresses, routes), opened when the endpoint appears and closed
 * when it goes.
 *
 * A socket keeps its namespace alive, so the daemon must let go as soon as the namespace is
 * otherwise gone: otherwise a container's namespace (and its veth) would outlive the container.
 * The path is what tells: `ip netns del`, a runtime removing /run/netns/cni-…, a process whose
 * /proc/PID/ns/net disappears. Directories of named namespaces are watched with inotify (fs.watch),
 * so that is noticed at once; /proc paths (a PID's namespace) cannot be, and are checked every
 * few seconds instead (a stat each, nothing more).
 */
import { existsSync, fstatSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { isTnetError } from '../errors.js';
import type { RtnlEvent } from '../kernel/event-types.js';
import { openRtnlEvents, type EventSocket } from '../kernel/event-sockets.js';
import type { Kernel } from '../kernel/types.js';

export interface NamespaceHandlers {
  readonly events: (path: string, events: readonly RtnlEvent[]) => void;
  readonly lost: (path: string, why: string) => void;
  /** A followed namespace is gone (its socket is closed already). */
  readonly gone: (path: string) => void;
  /** A wanted namespace that could not be opened now can (and is followed). */
  readonly appeared: (path: string) => void;
}

export interface NamespaceWatcher {
  /** Follows exactly these paths from now on; returns those newly found missing (no namespace there). */
  follow(paths: ReadonlySet<string>): string[];
  /** Checks followed paths (default: every one) and lets go of those whose namespace is gone. */
  recheck(paths?: Iterable<string>): void;
  /** Paths wanted but not open (their namespace does not exist). */
  missing(): string[];
  close(): void;
}

const GROUPS = ['link', 'ipv4Address', 'ipv6Address', 'ipv4Route', 'ipv6Route'] as const;
const UNWATCHABLE = /^\/proc\//;
const APPEAR_RETRIES_MS = [5, 50, 500, 2_000];

interface Followed {
  socket: EventSocket;
  readonly dev: number;
  readonly ino: number;
}

export const createNamespaceWatcher = (kernel: Kernel, on: NamespaceHandlers): NamespaceWatcher => {
  const followed = new Map<string, Followed>();
  const missing = new Set<string>();
  const dirs = new Map<string, FSWatcher>();

  const open = (path: string): boolean => {
    let handle;
    try {
      handle = kernel.openNetns(path);
    } catch (e) {
      if (isTnetError(e, 'notFound')) return false;
      throw e;
    }
    try {
      const st = fstatSync(handle.fd);
      const socket = openRtnlEvents(handle, GROUPS, {
        events: (events) => on.events(path, events),
        lost: (why, dead) => {
          if (dead) reopen(path);
          on.lost(path, why);
        },
      });
      followed.set(path, { socket, dev: st.dev, ino: st.ino });
      return true;
    } finally {
      handle.close();
    }
  };

  const reopen = (path: string): void => {
    followed.get(path)?.socket.close();
    followed.delete(path);
    if (!open(path)) letGo(path);
  };

  /** The namespace the path names now is not the one we follow (or there is none). */
  const changed = (path: string, f: Followed): boolean => {
    try {
      const st = statSync(path);
      return st.dev !== f.dev || st.ino !== f.ino;
    } catch {
      return true;
    }
  };

  const letGo = (path: string): void => {
    followed.get(path)?.socket.close();
    followed.delete(path);
    missing.add(path);
    on.gone(path);
  };

  const retries = new Set<NodeJS.Timeout>();
  const check = (path: string, attempt = 0): void => {
    const f = followed.get(path);
    if (f !== undefined && changed(path, f)) letGo(path);
    // A new namespace under a wanted name (`ip netns add` again) is the container coming back.
    if (followed.has(path) || !missing.has(path)) return;
    if (open(path)) {
      missing.delete(path);
      on.appeared(path);
    } else if (attempt < APPEAR_RETRIES_MS.length && existsSync(path)) {
      // The file is made before the namespace is mounted on it, and the mount makes no event.
      const t = setTimeout(() => (retries.delete(t), check(path, attempt + 1)), APPEAR_RETRIES_MS[attempt]);
      retries.add(t);
    }
  };

  const watchDir = (dir: string): void => {
    if (dirs.has(dir)) return;
    try {
      const w = watch(dir, { persistent: false }, (_type, name) => {
        for (const path of [...followed.keys(), ...missing]) {
          if (dirname(path) === dir && (name === null || basename(path) === name)) check(path);
        }
      });
      w.on('error', () => dirs.delete(dir));
      dirs.set(dir, w);
    } catch {
      // A directory we cannot watch: its paths are checked with the unwatchable ones.
    }
  };

  const unwatchedDirs = (): void => {
    const used = new Set([...followed.keys(), ...missing].map(dirname));
    for (const [dir, w] of dirs) if (!used.has(dir)) (w.close(), dirs.delete(dir));
  };

  return {
    follow: (paths) => {
      for (const path of [...followed.keys()]) if (!paths.has(path)) (followed.get(path)?.socket.close(), followed.delete(path));
      for (const path of [...missing]) if (!paths.has(path)) missing.delete(path);
      const failed: string[] = [];
      for (const path of paths) {
        if (followed.has(path)) continue;
        if (!UNWATCHABLE.test(path)) watchDir(dirname(path));
        if (open(path)) missing.delete(path);
        else if (!missing.has(path)) (missing.add(path), failed.push(path));
      }
      unwatchedDirs();
      return failed;
    },
    recheck: (paths) => {
      for (const path of [...(paths ?? [...followed.keys(), ...missing])]) check(path);
    },
    missing: () => [...missing],
    close: () => {
      for (const t of retries) clearTimeout(t);
      for (const f of followed.values()) f.socket.close();
      followed.clear();
      for (const w of dirs.values()) w.close();
      dirs.clear();
    },
  };
};
