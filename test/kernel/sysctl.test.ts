import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNetns } from '../../lib/kernel/netns.js';
import { readSysctl, writeSysctl } from '../../lib/kernel/sysctl.js';
import type { NetnsHandle } from '../../lib/kernel/types.js';
import { addNetns, delNetnsWithPrefix, TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { inNetns } from '../helpers/sh.js';

const NS = `${TT}ksys-a`;
let ns: NetnsHandle;

beforeAll(() => {
  addNetns(NS);
  ns = openNetns(NS);
});

afterAll(() => {
  ns?.close();
  delNetnsWithPrefix(`${TT}ksys-`);
});

describe('sysctl in a test netns', () => {
  it('writes and reads net/ipv4/ip_forward only inside that netns', () => {
    // Read-only look at the root netns: the test must show it is untouched, never change it.
    const hostBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    const other = hostBefore === '1' ? '0' : '1';
    writeSysctl(ns, 'net/ipv4/ip_forward', other);
    expect(readSysctl(ns, 'net/ipv4/ip_forward')).toBe(other);
    expect(inNetns(NS, 'cat', '/proc/sys/net/ipv4/ip_forward').trim()).toBe(other);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(hostBefore);
    writeSysctl(ns, 'net/ipv4/conf/lo/forwarding', '0');
    expect(readSysctl(ns, 'net/ipv4/conf/lo/forwarding')).toBe('0');
  });

  it('maps a missing key to notFound and refuses odd keys', () => {
    expect(() => readSysctl(ns, 'net/ipv4/conf/tt-nolink/forwarding')).toThrow(expect.objectContaining({ kind: 'notFound' }));
    expect(() => readSysctl(ns, '../../etc/passwd')).toThrow(expect.objectContaining({ kind: 'invalidInput' }));
    expect(() => writeSysctl(ns, 'net/ipv4/ip_forward', 'banana')).toThrow(expect.objectContaining({ kind: 'kernel' }));
  });
});
