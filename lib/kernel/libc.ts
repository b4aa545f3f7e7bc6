/**
 * The few libc calls Node does not expose, bound with koffi. Loaded lazily (createRequire) so
 * that a command that never touches the kernel or a lock does not load the native addon.
 */
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';
import { errnoError } from './errno.js';

export const CLONE_NEWNET = 0x40000000;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_SHARED = 1 << 20;
export const MNT_DETACH = 2;
/** ioctl on an nsfs fd: which CLONE_NEW* type the namespace is (linux/nsfs.h). */
const NS_GET_NSTYPE = 0xb703;
const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EINTR = 4;
const EWOULDBLOCK = 11;

interface Libc {
  koffi: typeof Koffi;
  setns: (fd: number, nstype: number) => number;
  unshare: (flags: number) => number;
  mount: (src: string | null, target: string, fstype: string | null, flags: number, data: null) => number;
  umount2: (target: string, flags: number) => number;
  ioctl: (fd: number, request: number, arg: number) => number;
  flock: (fd: number, op: number) => number;
  getsockname: (fd: number, addr: Buffer, len: number[]) => number;
  setsockopt: (fd: number, level: number, name: number, value: Buffer, len: number) => number;
  getsockopt: (fd: number, level: number, name: number, value: Buffer, len: number[]) => number;
  socket: (domain: number, type: number, protocol: number) => number;
  bind: (fd: number, addr: Buffer, len: number) => number;
  listen: (fd: number, backlog: number) => number;
  send: (fd: number, buf: Buffer, len: number, flags: number) => number;
  recv: (fd: number, buf: Buffer, len: number, flags: number) => number;
  close: (fd: number) => number;
}

let libc: Libc | undefined;

const load = (): Libc => {
  if (libc) return libc;
  const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
  const lib = koffi.load('libc.so.6');
  libc = {
    koffi,
    setns: lib.func('int setns(int fd, int nstype)'),
    unshare: lib.func('int unshare(int flags)'),
    mount: lib.func('int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const void *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    // ioctl is variadic; every request we make takes no argument, so a fixed 0 is harmless.
    ioctl: lib.func('int ioctl(int fd, unsigned long request, unsigned long arg)'),
    flock: lib.func('int flock(int fd, int op)'),
    getsockname: lib.func('int getsockname(int fd, _Out_ uint8_t *addr, _Inout_ uint32_t *len)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t len)'),
    getsockopt: lib.func('int getsockopt(int fd, int level, int name, _Out_ uint8_t *value, _Inout_ uint32_t *len)'),
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    bind: lib.func('int bind(int fd, const uint8_t *addr, uint32_t len)'),
    listen: lib.func('int listen(int fd, int backlog)'),
    send: lib.func('intptr_t send(int fd, const uint8_t *buf, uintptr_t len, int flags)'),
    recv: lib.func('intptr_t recv(int fd, _Out_ uint8_t *buf, uintptr_t len, int flags)'),
    close: lib.func('int close(int fd)'),
  };
  return libc;
};

/** On -1 reads errno immediately (any later JS may clobber it) and throws a TnetError. */
const check = (rc: number, op: string, target: string): void => {
  if (rc === -1) throw errnoError(load().koffi.errno(), op, target);
};

export const setns = (fd: number, target: string): void => check(load().setns(fd, CLONE_NEWNET), 'setns', target);
export const unshareNet = (): void => check(load().unshare(CLONE_NEWNET), 'unshare netns', 'current thread');
/** src null: a propagation change (MS_SHARED…) of target rather than a bind. */
export const mount = (src: string | null, target: string, flags: number): void =>
  check(load().mount(src ?? 'none', target, 'none', flags, null), 'mount', target);
export const umountDetach = (target: string): void => check(load().umount2(target, MNT_DETACH), 'umount', target);

/** The CLONE_NEW* type of the namespace behind fd, or undefined when fd is not a namespace. */
export const nsTypeOf = (fd: number): number | undefined => {
  const rc = load().ioctl(fd, NS_GET_NSTYPE, 0);
  return rc === -1 ? undefined : rc;
};

/** flock(2) without waiting: false while another open file description holds a conflicting lock. */
export const tryFlock = (fd: number, exclusive: boolean, target: string): boolean => {
  if (load().flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) === 0) return true;
  const errno = load().koffi.errno();
  if (errno === EWOULDBLOCK || errno === EINTR) return false;
  throw errnoError(errno, 'flock', target);
};

const AF_NETLINK = 16;
const SOL_SOCKET = 1;
const SO_RCVBUFFORCE = 33;

/** The netlink port a socket fd is bound to, or undefined when fd is not a netlink socket. */
export const netlinkPortOf = (fd: number): number | undefined => {
  const addr = Buffer.alloc(12);
  const len = [addr.length];
  if (load().getsockname(fd, addr, len) !== 0 || addr.readUInt16LE(0) !== AF_NETLINK) return undefined;
  return addr.readUInt32LE(4);
};

/** SO_RCVBUFFORCE: a receive buffer above net.core.rmem_max (needs CAP_NET_ADMIN). */
export const forceReceiveBuffer = (fd: number, bytes: number, target: string): void =>
  setIntOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes, `SO_RCVBUFFORCE on ${target}`);

const SOL_NETLINK = 270;
const NETLINK_NO_ENOBUFS = 5;
const SO_MEMINFO = 55;
const SK_MEMINFO_DROPS = 8;

/** NETLINK_NO_ENOBUFS: an overrun drops notifications without setting an error on the socket. */
export const noOverrunError = (fd: number, target: string): void => setIntOption(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, 1, `NETLINK_NO_ENOBUFS on ${target}`);

/** How many messages the kernel has dropped for this socket so far (SO_MEMINFO's SK_MEMINFO_DROPS). */
export const droppedCount = (fd: number, target: string): number => {
  const info = Buffer.alloc(4 * 9);
  check(load().getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, [info.length]), 'getsockopt SO_MEMINFO', target);
  return info.readUInt32LE(4 * SK_MEMINFO_DROPS);
};

const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const openSocket = (domain: number, type: number, protocol: number, target: string): number => {
  const fd = load().socket(domain, type | SOCK_CLOEXEC, protocol);
  check(fd, 'socket', target);
  return fd;
};
/** socket(2), non-blocking and close-on-exec, as Node expects the fds it is handed. */
export const socketFd = (domain: number, type: number, target: string): number => openSocket(domain, type | SOCK_NONBLOCK, 0, target);
/** socket(2) for synchronous requests made through sendFd / receiveNow, never handed to Node. */
export const blockingSocketFd = (domain: number, type: number, protocol: number, target: string): number => openSocket(domain, type, protocol, target);
export const setIntOption = (fd: number, level: number, name: number, value: number, target: string): void => {
  const option = Buffer.alloc(4);
  option.writeInt32LE(value);
  check(load().setsockopt(fd, level, name, option, 4), 'setsockopt', target);
};
export const bindFd = (fd: number, sockaddr: Buffer, target: string): void => check(load().bind(fd, sockaddr, sockaddr.length), 'bind', target);
export const listenFd = (fd: number, backlog: number, target: string): void => check(load().listen(fd, backlog), 'listen', target);
export const sendFd = (fd: number, message: Buffer, target: string): void => {
  const sent = load().send(fd, message, message.length, 0);
  check(sent, 'send', target);
};
/** One datagram, without waiting: undefined when none is queued. */
export const receiveNow = (fd: number, into: Buffer, target: string): Buffer | undefined => {
  const MSG_DONTWAIT = 0x40;
  const n = load().recv(fd, into, into.length, MSG_DONTWAIT);
  if (n === -1 && load().koffi.errno() === EWOULDBLOCK) return undefined;
  check(n, 'recv', target);
  return into.subarray(0, n);
};

/** For an fd no Node handle owns yet (a failed setup); errors do not matter there. */
export const closeFd = (fd: number): void => void load().close(fd);
