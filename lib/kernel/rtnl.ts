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
  /** Runs a call on the socket when its turn comes (see lanes): a dump alone, other requests side by side. */
  readonly schedule: <T>(call: () => Promise<T>, dump: boolean) => Promise<T>;
  /** Told before every request that changes the kernel (see KernelHooks). */
  readonly beforeChange: (what: string) => void;
}

/**
 * How many single-reply requests a session keeps in flight. Their answers wait in the socket's
 * receive buffer until the event loop reads them, and the kernel drops an answer that does not
 * fit, which would leave its request to time out: 32 answers stay far below the default 208 KiB.
 */
export const MAX_IN_FLIGHT = 32;

/**
 * The order of calls on one socket. netlink@0.3.0 keeps one "multipart in progress" slot per
 * socket: any reply that arrives while a dump is being received cuts the dump short ("Multipart
 * message not terminated properly"), and the kernel refuses a second concurrent dump (EBUSY). So a
 * dump runs alone. Other requests (changes, a link by name) get one answer each, matched to them
 * by sequence number, so up to MAX_IN_FLIGHT go out without waiting for each other: the kernel
 * carries out each inside its send, in the order sent, and the caller pays one wake-up of its
 * event loop per MAX_IN_FLIGHT answers instead of one per request (on a loaded machine each
 * wake-up waits for a CPU: a bridge put back with 500 ports took 2-3 s at load 20, one request
 * after the other). Calls start in the order they were made.
 */
export const lanes = (): (<T>(call: () => Promise<T>, dump: boolean) => Promise<T>) => {
  const queue: Array<{ readonly dump: boolean; readonly start: () => void }> = [];
  let running = 0;
  let dumping = false;
  const pump = (): void => {
    for (let next = queue[0]; next !== undefined && !dumping && (next.dump ? running === 0 : running < MAX_IN_FLIGHT); next = queue[0]) {
      queue.shift();
      running++;
      dumping = next.dump;
      next.start();
    }
  };
  return <T>(call: () => Promise<T>, dump: boolean): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const done = (): void => {
        running--;
        dumping = false;
        pump();
      };
      const start = (): void => {
        new Promise<T>((r) => r(call())).then(
          (v) => (done(), resolve(v)),
          (e: unknown) => (done(), reject(e)),
        );
      };
      queue.push({ dump, start });
      pump();
    });
};

/** A request that gets no answer (the socket died) fails instead of hanging the caller. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** The flags for "create, and fail with EEXIST if it is there" (REQUEST|ACK are added by netlink). */
export const createExcl = (nl: NetlinkModule): number => nl.FlagsNew.CREATE | nl.FlagsNew.EXCL;

/**
 * Runs one netlink call, mapping its error to a TnetError naming op and target. Errno names in
 * `absent` mean "already gone" and resolve to undefined, which is how deletes stay idempotent.
 */
export const attempt = <T>(r: Rtnl, op: string, target: string, call: () => Promise<T>, absent: readonly string[] = []): Promise<T | undefined> =>
  run(r, op, target, call, absent, false);

/** attempt() for a dump (a request answered by many messages): it runs alone on the socket. */
export const dump = <T>(r: Rtnl, op: string, target: string, call: () => Promise<T>): Promise<T | undefined> => run(r, op, target, call, [], true);

const run = async <T>(r: Rtnl, op: string, target: string, call: () => Promise<T>, absent: readonly string[], isDump: boolean): Promise<T | undefined> => {
  try {
    return await r.schedule(call, isDump);
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
