/** Two namespace handles name the same namespace when their nsfs inodes match. */
import { fstatSync } from 'node:fs';
import type { NetnsHandle } from './types.js';

export const isSameNetns = (a: NetnsHandle, b: NetnsHandle): boolean => {
  const sa = fstatSync(a.fd);
  const sb = fstatSync(b.fd);
  return sa.dev === sb.dev && sa.ino === sb.ino;
};
