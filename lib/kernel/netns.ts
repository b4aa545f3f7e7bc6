/**
 * Network namespaces by fd. A netlink socket or an nft context belongs to the netns of the
 * thread that created it, so the rest of the kernel layer creates them inside withNetns and then
 * works asynchronously from the main netns.
 */
import { closeSync, constants, mkdirSync, openSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { TnetError } from '../errors.js';
import { kernelError, errnoNameOf } from './errno.js';
import { CLONE_NEWNET, MS_BIND, MS_REC, MS_SHARED, mount, nsTypeOf, setns, umountDetach, unshareNet } from './libc.js';
import type { NetnsHandle } from './types.js';

export const NETNS_RUN_DIR = '/run/netns';
const THREAD_NETNS = '/proc/thread-self/ns/net';

const handle = (path: string, fd: number): NetnsHandle => {
  let open = true;
  return {
    path,
    fd,
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
};

const validName = (name: string): string => {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new TnetError('invalidInput', `netns name "${name}" is not allowed: use a plain file name`, {
      op: 'netns name',
      target: name,
    });
  }
  return name;
};

/** Where a ref points: an absolute path, a decimal PID, or a name under /run/netns. */
export const netnsPath = (ref: string): string => {
  if (ref.startsWith('/')) return ref;
  if (/^[1-9]\d*$/.test(ref)) return `/proc/${ref}/ns/net`;
  return `${NETNS_RUN_DIR}/${validName(ref)}`;
};

/** What a file that is not a namespace is, for messages. */
const fileKind = (st: Stats): string =>
  st.isFIFO() ? 'a FIFO' : st.isDirectory() ? 'a directory' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';

/**
 * Opens a netns by path, /run/netns name or PID; notFound when absent or not a netns. A netns
 * file (nsfs, or its bind mount under /run/netns) is a regular file: anything else is refused
 * before it is opened, and the open never blocks, so a FIFO or a device given by mistake (or on
 * purpose) cannot hang tnet while it holds the host lock.
 */
export const openNetns = (ref: string): NetnsHandle => {
  const path = netnsPath(ref);
  let fd: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new TnetError('notFound', `"${ref}" (${path}) is not a network namespace (it is ${fileKind(st)})`, { op: 'open netns', target: ref });
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    if (e instanceof TnetError) throw e;
    const err = kernelError(e, 'open netns', ref);
    // ENOENT is the common case; EISDIR/ENOTDIR etc. also mean "no netns there".
    throw err.kind === 'permission' ? err : new TnetError('notFound', `netns "${ref}" does not exist (${path})`, {
      op: 'open netns',
      target: ref,
      cause: e,
    });
  }
  // A file under /run/netns whose mount is gone, or any other file, opens fine: ask nsfs.
  if (nsTypeOf(fd) !== CLONE_NEWNET) {
    closeSync(fd);
    throw new TnetError('notFound', `"${ref}" (${path}) is not a network namespace`, { op: 'open netns', target: ref });
  }
  return handle(path, fd);
};

/** The netns this thread is in now (the main thread's, for all JS code). */
export const currentNetns = (): NetnsHandle => handle(THREAD_NETNS, openSync(THREAD_NETNS, 'r'));

/**
 * Runs fn with this thread inside the netns of fd, and always switches back, even when fn throws.
 * fn must be synchronous and must not start threadpool work: everything it creates is bound to
 * the netns, and anything running after the switch back would not be.
 */
export const withNetns = <T>(fd: number, fn: () => T): T => {
  const back = openSync(THREAD_NETNS, 'r');
  try {
    setns(fd, 'netns fd');
    try {
      return fn();
    } finally {
      setns(back, 'original netns');
    }
  } finally {
    closeSync(back);
  }
};

/** Makes /run/netns a shared mount point (as `ip netns add` does) so our bind mounts propagate. */
const ensureRunDir = (): void => {
  mkdirSync(NETNS_RUN_DIR, { recursive: true, mode: 0o755 });
  try {
    mount(null, NETNS_RUN_DIR, MS_SHARED | MS_REC);
  } catch (e) {
    // EINVAL: not a mount point yet (fresh machine): bind it onto itself first.
    if (errnoNameOf(e) !== 'EINVAL') throw e;
    mount(NETNS_RUN_DIR, NETNS_RUN_DIR, MS_BIND | MS_REC);
    mount(null, NETNS_RUN_DIR, MS_SHARED | MS_REC);
  }
};

/** Creates /run/netns/NAME holding a fresh netns, without `ip`; exists when the name is taken. */
export const createNamedNetns = (name: string): NetnsHandle => {
  const path = netnsPath(validName(name));
  ensureRunDir();
  try {
    closeSync(openSync(path, 'wx', 0o444));
  } catch (e) {
    throw kernelError(e, 'create netns', name);
  }
  try {
    const back = openSync(THREAD_NETNS, 'r');
    try {
      unshareNet();
      try {
        mount(THREAD_NETNS, path, MS_BIND);
      } finally {
        setns(back, 'original netns');
      }
    } finally {
      closeSync(back);
    }
  } catch (e) {
    unlinkSync(path);
    throw e;
  }
  return openNetns(path);
};

/** Unmounts and removes /run/netns/NAME; a name that is not there is fine. */
export const deleteNamedNetns = (name: string): void => {
  const path = netnsPath(validName(name));
  try {
    umountDetach(path);
  } catch (e) {
    // EINVAL: not mounted (stale file); ENOENT: already gone. Either way, go on to unlink.
    const name = errnoNameOf(e);
    if (name !== 'EINVAL' && name !== 'ENOENT') throw e;
  }
  try {
    unlinkSync(path);
  } catch (e) {
    if (errnoNameOf(e) !== 'ENOENT') throw kernelError(e, 'delete netns', name);
  }
};
