/**
 * The one error type of tnet. Every failure carries a kind (what sort of failure, which decides
 * the exit code and the CNI error code), the operation that failed and the value it was about,
 * so a message can always name the bad value and what is allowed.
 */
export type ErrorKind =
  | 'invalidInput' // the user gave a value that is not allowed
  | 'invalidConfig' // a spec file or CNI network config is malformed
  | 'exists' // the thing to create is already there
  | 'notFound' // the thing named is not there
  | 'conflict' // allowed on its own, but clashes with existing state (overlap, address taken, in use)
  | 'exhausted' // a pool has nothing left
  | 'busy' // try again later (lock held, kernel busy)
  | 'permission'
  | 'unsupported'
  | 'kernel' // the kernel refused for a reason the user did not cause
  | 'internal';

export class TnetError extends Error {
  override readonly name = 'TnetError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details: { op?: string; target?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}

export const isTnetError = (e: unknown, kind?: ErrorKind): e is TnetError =>
  e instanceof TnetError && (kind === undefined || e.kind === kind);

/** Process exit codes of the CLI, by kind: 1 for user errors, distinct codes for the rest. */
export const exitCodeOf = (kind: ErrorKind): number => EXIT_CODES[kind];

const EXIT_CODES: Record<ErrorKind, number> = {
  invalidInput: 2,
  invalidConfig: 2,
  exists: 3,
  notFound: 4,
  conflict: 5,
  exhausted: 5,
  busy: 6,
  permission: 77,
  unsupported: 8,
  kernel: 9,
  internal: 70,
};

/** CNI spec error codes (SPEC.md "Error"): 1-99 are reserved by the spec, 100+ are ours. */
export const cniCodeOf = (kind: ErrorKind): number => CNI_CODES[kind];

const CNI_CODES: Record<ErrorKind, number> = {
  invalidInput: 7, // invalid network config
  invalidConfig: 7,
  exists: 100,
  notFound: 100,
  conflict: 100,
  exhausted: 100,
  busy: 11, // try again later
  permission: 100,
  unsupported: 100,
  kernel: 999,
  internal: 999,
};

/** Wraps anything thrown into a TnetError without losing the original. */
export const toTnetError = (e: unknown, op: string): TnetError =>
  e instanceof TnetError
    ? e
    : new TnetError('internal', `${op}: ${e instanceof Error ? e.message : String(e)}`, { op, cause: e });
