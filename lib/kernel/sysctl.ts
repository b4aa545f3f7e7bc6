/**
 * /proc/sys in a given netns. The net/ subtree a file belongs to is fixed when the file is
 * opened, so only the open happens inside the withNetns window; reading and writing happen after.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { TnetError } from '../errors.js';
import { kernelError } from './errno.js';
import { withNetns } from './netns.js';
import type { NetnsHandle } from './types.js';

/** key like "net/ipv4/ip_forward" or "net/ipv4/conf/tnbr-ab12/forwarding". */
const sysctlPath = (key: string): string => {
  const parts = key.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..') || !/^[\w.\-/]+$/.test(key)) {
    throw new TnetError('invalidInput', `sysctl key "${key}" is not valid: expected a path like net/ipv4/ip_forward`, {
      op: 'sysctl',
      target: key,
    });
  }
  return `/proc/sys/${key}`;
};

const openIn = (netns: NetnsHandle, key: string, flags: 'r' | 'w', op: string): number => {
  const path = sysctlPath(key);
  try {
    return withNetns(netns.fd, () => openSync(path, flags));
  } catch (e) {
    throw kernelError(e, op, key);
  }
};

export const readSysctl = (netns: NetnsHandle, key: string): string => {
  const fd = openIn(netns, key, 'r', 'read sysctl');
  try {
    return readFileSync(fd, 'utf8').trim();
  } catch (e) {
    throw kernelError(e, 'read sysctl', key);
  } finally {
    closeSync(fd);
  }
};

export const writeSysctl = (netns: NetnsHandle, key: string, value: string): void => {
  const fd = openIn(netns, key, 'w', 'write sysctl');
  try {
    writeSync(fd, value);
  } catch (e) {
    throw kernelError(e, `write sysctl ${value} to`, key);
  } finally {
    closeSync(fd);
  }
};
