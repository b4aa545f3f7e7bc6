/**
 * Reading typed values out of untyped input (a parsed spec file, an object the CLI built) with
 * messages that say where the bad value is, what it was and what is allowed. Every parser in
 * model/ builds on these so that all input errors read the same way: "<path>: <problem>".
 */
import { type ErrorKind, TnetError } from '../errors.js';

/** The path of a child field: at('networks', 0) = 'networks[0]', at('networks[0]', 'mtu') = 'networks[0].mtu'. */
export const at = (where: string, key: string | number): string =>
  typeof key === 'number' ? `${where}[${key}]` : where === '' ? key : `${where}.${key}`;

export const inputError = (path: string, problem: string, kind: ErrorKind = 'invalidInput'): TnetError =>
  new TnetError(kind, path === '' ? problem : `${path}: ${problem}`, { op: 'parse', ...(path === '' ? {} : { target: path }) });

/** A short description of a value for messages: 'number 5', 'a list', 'null'. */
export const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
};

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const asRecord = (v: unknown, path: string): Record<string, unknown> => {
  if (!isRecord(v)) throw inputError(path, `expected a mapping of fields, got ${describe(v)}`);
  return v;
};

/** Rejects fields not in `allowed`, listing the allowed ones so a typo is easy to spot. */
export const onlyKeys = (
  obj: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  noun = 'field',
): void => {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw inputError(at(path, key), `unknown ${noun} ${JSON.stringify(key)}; allowed ${noun}s: ${allowed.join(', ')}`);
    }
  }
};

export const asString = (v: unknown, path: string): string => {
  if (typeof v !== 'string') throw inputError(path, `expected a string, got ${describe(v)}`);
  if (v === '') throw inputError(path, 'must not be empty');
  return v;
};

export const asBoolean = (v: unknown, path: string): boolean => {
  if (typeof v !== 'boolean') throw inputError(path, `expected true or false, got ${describe(v)}`);
  return v;
};

export const asInteger = (v: unknown, path: string, min: number, max: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw inputError(path, `${describe(v)} is not allowed; expected an integer from ${min} to ${max}`);
  }
  return v;
};

/** A list of JSON objects, each read by `read` with its own path; absent or null is an empty list. */
export const asRecordList = <T>(v: unknown, path: string, what: string, read: (rec: Record<string, unknown>, path: string) => T): T[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw inputError(path, `expected a list of ${what}, got ${describe(v)}`);
  return v.map((item, i) => read(asRecord(item, at(path, i)), at(path, i)));
};

export const asStringList = (v: unknown, path: string): string[] => {
  if (!Array.isArray(v)) throw inputError(path, `expected a list of strings, got ${describe(v)}`);
  return v.map((item, i) => asString(item, at(path, i)));
};

/** A string-to-string mapping; numbers and booleans are refused rather than converted, so YAML's `1` vs `"1"` never surprises. */
export const asStringMap = (v: unknown, path: string): Record<string, string> => {
  const rec = asRecord(v, path);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(rec)) {
    if (typeof value !== 'string') throw inputError(at(path, k), `expected a string, got ${describe(value)}; quote it`);
    out[k] = value;
  }
  return out;
};

/** Splits `key=value` items (from repeated CLI flags); duplicate keys are refused rather than silently overwritten. */
export const parseKeyValues = (list: readonly string[], flag: string, requireValue: boolean): Map<string, string> => {
  const out = new Map<string, string>();
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq === 0 || (eq < 0 && requireValue)) {
      throw inputError(flag, `${JSON.stringify(item)} is not allowed; expected key=value`);
    }
    const key = eq < 0 ? item : item.slice(0, eq);
    if (out.has(key)) throw inputError(flag, `${JSON.stringify(key)} is given twice`);
    out.set(key, eq < 0 ? '' : item.slice(eq + 1));
  }
  return out;
};
