/**
 * Sockets that receive the kernel's change notifications in one namespace: rtnetlink multicast
 * groups (links, addresses, routes, neighbours, netconf) and nftables' NFNLGRP_NFTABLES. Each is
 * netlink@0.3's raw socket, created inside a withNetns window (a netlink socket belongs to the
 * namespace it was created in), with messages split and parsed here so the nlmsg type is kept
 * (the package's parsed 'message' event drops it).
 *
 * A socket keeps its namespace alive: whoever opens one in a container's namespace must close it
 * once the container is gone (see daemon/netns-watch.ts), or the namespace and its veth live on.
 */
import { closeSync, openSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Raw from 'netlink/dist/raw.js';
import type * as Structs from 'netlink/dist/structs.js';
import type { NftBatch, NftEvent, RtnlEvent } from './event-types.js';
import { parseNftMessage } from './nft-event-parse.js';
import { droppedCount, forceReceiveBuffer, netlinkPortOf, noOverrunError } from './libc.js';
import { withNetns } from './netns.js';
import { netlinkModule } from './rtnl.js';
import { parseRtnlEvent } from './rtnl-event-parse.js';
import type { NetnsHandle } from './types.js';

/** RTNLGRP_* (linux/rtnetlink.h). */
export const RTNL_GROUPS = {
  link: 1,
  neighbour: 3,
  ipv4Address: 5,
  ipv4Route: 7,
  ipv6Address: 9,
  ipv6Route: 11,
  ipv4Netconf: 24,
  ipv6Netconf: 25,
} as const;
export type RtnlGroup = keyof typeof RTNL_GROUPS;

const NETLINK_ROUTE = 0;
const NETLINK_NETFILTER = 12;
const NFNLGRP_NFTABLES = 7;
/**
 * Deleting a bridge with 500 ports notifies ~1 500 link and FDB changes at once, and putting it
 * back as many again (several KB of buffer each), while the daemon is busy with the repair.
 * SO_RCVBUFFORCE lifts SO_RCVBUF's cap, net.core.rmem_max (208 KB on a stock Debian), for the
 * host's sockets (see watchOverruns); the buffer is only a limit, memory is taken as messages
 * wait. A smaller buffer only means more overruns, each costing a full pass.
 */
export const BURST_BUFFER_BYTES = 32 << 20;
/** A container's namespace changes a few objects at a time; more only costs a full pass. */
export const NAMESPACE_BUFFER_BYTES = 256 << 10;

export interface EventHandlers<E> {
  /** Notifications received in one read of the socket, in order. */
  readonly events: (events: readonly E[]) => void;
  /**
   * Notifications were lost (the receive buffer overflowed: ENOBUFS), or the socket failed
   * (`dead`: it receives nothing more and must be opened again).
   */
  readonly lost: (why: string, dead: boolean) => void;
}

export interface EventSocket {
  close(): void;
}

interface Loaded {
  readonly RawNetlinkSocket: typeof Raw.RawNetlinkSocket;
  readonly parseMessages: typeof Structs.parseMessages;
}
let loaded: Loaded | undefined;
const load = (): Loaded => {
  if (loaded) return loaded;
  const req = createRequire(import.meta.url);
  const { RawNetlinkSocket } = req('netlink/dist/raw.js') as typeof Raw;
  const { parseMessages } = req('netlink/dist/structs.js') as typeof Structs;
  return (loaded = { RawNetlinkSocket, parseMessages });
};

/** The fd the next socket gets: the lowest free one (what socket(2) returns). */
const nextFreeFd = (): number => {
  const fd = openSync('/dev/null', 'r');
  closeSync(fd);
  return fd;
};

/**
 * The package keeps the socket's fd to itself: it is the one predicted (nextFreeFd before it was
 * made) if that is bound to the socket's port, else found among ours by that port (a scan of
 * /proc/self/fd, which another thread opening an fd meanwhile would make necessary).
 */
const fdOf = (socket: Raw.RawNetlinkSocket, predicted: number): number | undefined => {
  const port = socket.address().port;
  if (netlinkPortOf(predicted) === port) return predicted;
  return readdirSync('/proc/self/fd').map(Number).find((fd) => netlinkPortOf(fd) === port);
};

/**
 * Overruns counted rather than reported as a socket error, on every socket: netlink@0.3's addon
 * aborts the whole process when its poll sees a socket error (EPOLLERR: it builds the exception
 * with a null string), and an overrun is one, which a container's root could cause at will in its
 * own namespace. With NETLINK_NO_ENOBUFS the kernel only counts what it drops; the returned check
 * compares that count after each read, so an overrun still costs a full pass. The buffer is set
 * past net.core.rmem_max, so it is the same on every host. Without CAP_NET_ADMIN or the fd, the
 * capped buffer and the kernel's ENOBUFS stay.
 */
const watchOverruns = (socket: Raw.RawNetlinkSocket, predictedFd: number, bufferBytes: number, target: string): (() => number) | undefined => {
  const fd = fdOf(socket, predictedFd);
  if (fd === undefined) return undefined;
  try {
    forceReceiveBuffer(fd, bufferBytes, target);
    noOverrunError(fd, target);
  } catch {
    return undefined;
  }
  let dropped = droppedCount(fd, target);
  // Called from the addon's read callback, where a throw would abort the process too.
  return () => {
    try {
      const now = droppedCount(fd, target);
      const lost = now - dropped;
      dropped = now;
      return lost;
    } catch {
      return 0;
    }
  };
};

/**
 * One socket; `collect` turns each message into what the handlers get (pushing onto `out`), and
 * what one read of the socket brought is delivered together.
 */
const openRaw = <E>(
  netns: NetnsHandle,
  protocol: number,
  groups: readonly number[],
  collect: (type: number, data: Buffer, out: E[]) => void,
  on: EventHandlers<E>,
  bufferBytes: number,
): EventSocket => {
  const { RawNetlinkSocket, parseMessages } = load();
  const predictedFd = nextFreeFd();
  const socket = withNetns(netns.fd, () => {
    const s = new RawNetlinkSocket(protocol, { recvBufferSize: bufferBytes, sendBufferSize: 0 });
    try {
      for (const g of groups) s.addMembership(g);
    } catch (e) {
      s.close();
      throw e;
    }
    return s;
  });
  const overruns = watchOverruns(socket, predictedFd, bufferBytes, netns.path);
  let open = true;
  socket.on('message', (buf: Buffer) => {
    const lost = overruns?.() ?? 0;
    if (lost > 0) on.lost(`${netns.path}: ${lost} notification(s) dropped (receive buffer full)`, false);
    let messages;
    try {
      messages = parseMessages(buf);
    } catch {
      return; // a datagram that does not parse says nothing we could use
    }
    const out: E[] = [];
    for (const m of messages) collect(m.type, m.data, out);
    if (out.length > 0) on.events(out);
  });
  socket.on('error', (e: Error & { code?: string }) => {
    // ENOBUFS: the kernel dropped notifications but the socket goes on; anything else closed it.
    const dead = e.code !== 'ENOBUFS';
    if (dead) open = false;
    on.lost(`${netns.path}: ${e.code ?? e.message}`, dead);
  });
  return {
    close: () => {
      if (open) socket.close();
      open = false;
    },
  };
};

/**
 * rtnetlink notifications of `groups` in `netns`; bufferBytes BURST_BUFFER_BYTES for a namespace
 * with bursts (the host's): see watchOverruns.
 */
export const openRtnlEvents = (netns: NetnsHandle, groups: readonly RtnlGroup[], on: EventHandlers<RtnlEvent>, bufferBytes = NAMESPACE_BUFFER_BYTES): EventSocket => {
  const nl = netlinkModule();
  const collect = (type: number, data: Buffer, out: RtnlEvent[]): void => {
    const e = parseRtnlEvent(nl, type, data);
    if (e !== undefined) out.push(e);
  };
  return openRaw(netns, NETLINK_ROUTE, groups.map((g) => RTNL_GROUPS[g]), collect, on, bufferBytes);
};

/**
 * nftables notifications in `netns`, delivered per transaction: the kernel sends a transaction's
 * changes, then one NEWGEN message with the pid of the process that committed it.
 */
export const openNftEvents = (netns: NetnsHandle, on: EventHandlers<NftBatch>): EventSocket => {
  let pending: NftEvent[] = [];
  const collect = (type: number, data: Buffer, out: NftBatch[]): void => {
    const m = parseNftMessage(type, data);
    if (m?.kind === 'event') pending.push(m.event);
    else if (m?.kind === 'generation') {
      out.push({ pid: m.pid, events: pending });
      pending = [];
    }
  };
  return openRaw(netns, NETLINK_NETFILTER, [NFNLGRP_NFTABLES], collect, on, BURST_BUFFER_BYTES);
};
