import { expect } from 'vitest';
import { type ErrorKind, TnetError } from '../../lib/errors.js';

/** Asserts fn throws a TnetError of `kind` whose message matches `message`. */
export const expectError = (fn: () => unknown, kind: ErrorKind, message: RegExp): void => {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected an error').toBeInstanceOf(TnetError);
  const e = thrown as TnetError;
  expect(e.message).toMatch(message);
  expect(e.kind, e.message).toBe(kind);
};
