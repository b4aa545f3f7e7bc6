/**
 * The one place where kernel failures (errno numbers, errno names in netlink's message text,
 * libnftables error text) become TnetError kinds.
 */
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { type ErrorKind, TnetError } from '../errors.js';

const KIND_BY_NAME: Record<string, ErrorKind> = {
  EEXIST: 'exists',
  ENOENT: 'notFound',
  ENODEV: 'notFound',
  ESRCH: 'notFound',
  EPERM: 'permission',
  EACCES: 'permission',
  EBUSY: 'busy',
  EAGAIN: 'busy',
  EOPNOTSUPP: 'unsupported',
};

// glibc's strerror wording (what `ip` prints), so messages read like the tools users know.
const TEXT_BY_NAME: Record<string, string> = {
  EEXIST: 'File exists',
  ENOENT: 'No such file or directory',
  ENODEV: 'No such device',
  ESRCH: 'No such process',
  EPERM: 'Operation not permitted',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EAGAIN: 'Resource temporarily unavailable',
  EOPNOTSUPP: 'Operation not supported',
  EINVAL: 'Invalid argument',
  ENETUNREACH: 'Network is unreachable',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ERANGE: 'Numerical result out of range',
};

const errnoName = (errno: number): string =>
  Object.entries(constants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`;

const textOf = (name: string, errno: number | undefined): string =>
  TEXT_BY_NAME[name] ?? (errno === undefined ? name : (getSystemErrorMap().get(-errno)?.[1] ?? name));

const fromName = (name: string, errno: number | undefined, op: string, target: string, cause?: unknown): TnetError =>
  new TnetError(KIND_BY_NAME[name] ?? 'kernel', `${op} "${target}": ${textOf(name, errno)}`, {
    op,
    target,
    ...(cause === undefined ? {} : { cause }),
  });

/** A failed syscall as a TnetError; its cause carries the errno name as `.code`. */
export const errnoError = (errno: number, op: string, target: string): TnetError => {
  const name = errnoName(errno);
  return fromName(name, errno, op, target, Object.assign(new Error(name), { code: name, errno }));
};

/**
 * The errno name carried by a thrown error or its cause: Node's `.code`, or netlink@0.3.0's
 * "Request rejected: EEXIST" (it sets no code).
 */
export const errnoNameOf = (e: unknown): string | undefined => {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  const m = /^Request rejected: (E[A-Z0-9]+|\d+)$/.exec(String((e as { message?: unknown }).message));
  if (m?.[1]) return /^\d+$/.test(m[1]) ? errnoName(Number(m[1])) : m[1];
  return e instanceof TnetError ? errnoNameOf(e.cause) : undefined;
};

/** Any error thrown by a kernel call (fs, netlink) as a TnetError naming op and target. */
export const kernelError = (e: unknown, op: string, target: string): TnetError => {
  if (e instanceof TnetError) return e;
  const name = errnoNameOf(e);
  if (name !== undefined) return fromName(name, constants.errno[name as keyof typeof constants.errno], op, target, e);
  const text = e instanceof Error ? e.message : String(e);
  return new TnetError('kernel', `${op} "${target}": ${text}`, { op, target, cause: e });
};

/** libnftables gives only text ("Could not process rule: File exists"): pick the kind from it. */
export const nftError = (text: string, op: string, target: string): TnetError => {
  const name = Object.entries(TEXT_BY_NAME).find(([, t]) => text.includes(t))?.[0];
  const kind = (name === undefined ? undefined : KIND_BY_NAME[name]) ?? 'kernel';
  return new TnetError(kind, `${op} "${target}": ${text.trim()}`, { op, target });
};
