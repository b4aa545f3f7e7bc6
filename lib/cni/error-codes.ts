/**
 * CNI errors: the spec's well-known codes, and the mapping from tnet's error kinds. The spec
 * reserves 1-99; tnet-specific failures use 100+ (lib/errors.ts cniCodeOf). A CniError is what
 * the protocol layer throws when the request itself is at fault (env, stdin, version).
 */
import { cniCodeOf, toTnetError } from '../errors.js';

export const CNI_CODES = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidNetworkConfig: 7,
  tryAgainLater: 11,
  pluginNotAvailable: 50,
} as const;

export class CniError extends Error {
  override readonly name = 'CniError';
  constructor(
    readonly code: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
  }
}

export interface CniErrorBody {
  readonly cniVersion: string;
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
}

/** Any failure as the spec's error object; TnetErrors keep their kind's code. */
export const cniErrorBody = (e: unknown, cniVersion: string): CniErrorBody => {
  if (e instanceof CniError) return { cniVersion, code: e.code, msg: e.message, ...(e.details === '' ? {} : { details: e.details }) };
  const err = toTnetError(e, 'tnet-cni');
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return { cniVersion, code: cniCodeOf(err.kind), msg: err.message, ...(cause === undefined ? {} : { details: cause }) };
};
