/**
 * What the netlink-* files share: the lazily loaded netlink module, a socket bound to one netns,
 * and the single wrapper that turns netlink@0.3.0's plain errors into TnetErrors.
 */
import { createRequire } from 'node:module';
import type { RtNetlinkSocket, StreamData } from 'netlink';
import type * as Constants from 'netlink/dist/constants.js';
import type * as Structs from 'netlink/dist/structs.js';
import type * as RtSocket from 'netlink/dist/rt/rt.js';
import type * as RtStructs from 'netlink/dist/rt/structs.js';
import type * as Ifla from 'netlink/dist/rt/ifla.js';
import { errnoNameOf, kernelError } from './errno.js';

/** The rtnetlink part of netlink, which is all tnet uses. */
export interface NetlinkModule {
  readonly Flags: typeof Constants.Flags;
  readonly FlagsNew: typeof Constants.FlagsNew;
  readonly AttrStream: typeof Structs.AttrStream;
  readonly createRtNetlink: typeof RtSocket.createRtNetlink;
  readonly rt: typeof RtStructs;
  readonly ifla: typeof Ifla;
}

let loaded: NetlinkModule | undefined;

/**
 * Loaded at first use, not at import, so kernel-free commands skip the addon; and file by file,
 * because netlink's index also loads its genl, nl80211 and WireGuard parts.
 */
export const netlinkModule = (): NetlinkModule => {
  if (loaded) return loaded;
  const load = createRequire(import.meta.url);
  const { Flags, FlagsNew } = load('netlink/dist/constants.js') as typeof Constants;
  const { AttrStream } = load('netlink/dist/structs.js') as typeof Structs;
  const { createRtNetlink } = load('netlink/dist/rt/rt.js') as typeof RtSocket;
  const rt = load('netlink/dist/rt/structs.js') as typeof RtStructs;
  const ifla = load('netlink/dist/rt/ifla.js') as typeof Ifla;
  return (loaded = { Flags, FlagsNew, AttrStream, createRtNetlink, rt, ifla });
};

export interface Rtnl {
  readonly nl: NetlinkModule;
  readonly socket: RtNetlinkSocket;
  /** Runs one request at a time on the socket (see serialize). */
  readonly exclusive: <T>(call: () => Promise<T>) => Promise<T>;
  /** Told before every request that changes the kernel (see KernelHooks). */
  readonly beforeChange: (what: string) => void;
}

/**
 * netlink@0.3.0 keeps one "multipart in progress" slot per socket: a reply that arrives while a
 * dump is being received cuts the dump short ("Multipart message not terminated properly"), and
 * the kernel refuses a second concurrent dump (EBUSY). So a session sends one request at a time.
 */
export const serialize = (): (<T>(call: () => Promise<T>) => Promise<T>) => {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(call: () => Promise<T>): Promise<T> => {
    const run = tail.then(call, call);
    tail = run.catch(() => undefined);
    return run;
  };
};

/** A request that gets no answer (the socket died) fails instead of hanging the caller. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** The flags for "create, and fail with EEXIST if it is there" (REQUEST|ACK are added by netlink). */
export const createExcl = (nl: NetlinkModule): number => nl.FlagsNew.CREATE | nl.FlagsNew.EXCL;

/**
 * Runs one netlink call, mapping its error to a TnetError naming op and target. Errno names in
 * `absent` mean "already gone" and resolve to undefined, which is how deletes stay idempotent.
 */
export const attempt = async <T>(
  r: Rtnl,
  op: string,
  target: string,
  call: () => Promise<T>,
  absent: readonly string[] = [],
): Promise<T | undefined> => {
  try {
    return await r.exclusive(call);
  } catch (e) {
    if (absent.includes(errnoNameOf(e) ?? '')) return undefined;
    throw kernelError(e, op, target);
  }
};

/** attempt() for a request that changes the kernel: the session's hook hears of it first. */
export const change = <T>(
  r: Rtnl,
  op: string,
  target: string,
  call: () => Promise<T>,
  absent: readonly string[] = [],
): Promise<T | undefined> => {
  r.beforeChange(`${op} ${target}`);
  return attempt(r, op, target, call, absent);
};

/** Serialises a nested attribute: netlink@0.3.0 types these as Buffer but its encoders return StreamData. */
export const nested = (nl: NetlinkModule, ...parts: StreamData[]): Buffer => {
  const out = new nl.AttrStream();
  for (const p of parts) out.emit(p);
  return Buffer.concat(out.bufs);
};

/** Enum fields come back as a name when netlink knows the value, as a number otherwise. */
export const enumValue = (mapping: Record<string, string | number>, v: string | number | undefined): number =>
  typeof v === 'number' ? v : v === undefined ? 0 : Number(mapping[v] ?? 0);
