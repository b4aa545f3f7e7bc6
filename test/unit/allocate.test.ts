import { describe, expect, test } from 'vitest';
import { allocateAddress } from '../../lib/ipam/allocate.js';
import { nthAddress } from '../../lib/model/cidr.js';
import type { SubnetConfig } from '../../lib/model/types.js';
import { expectError } from './expect-error.js';

const v4: SubnetConfig = { subnet: '10.1.0.0/24', gateway: '10.1.0.1' };
const v6: SubnetConfig = { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' };
const none = new Set<string>();

describe('allocateAddress: automatic', () => {
  test('lowest free address, skipping network, gateway and taken ones', () => {
    expect(allocateAddress(v4, 4, none)).toBe('10.1.0.2');
    expect(allocateAddress(v4, 4, new Set(['10.1.0.2', '10.1.0.3', '10.1.0.5']))).toBe('10.1.0.4');
    expect(allocateAddress({ subnet: '10.1.0.0/24', gateway: '10.1.0.254' }, 4, none)).toBe('10.1.0.1');
    expect(allocateAddress(v6, 6, none)).toBe('fd00:1::2');
    expect(allocateAddress(v6, 6, new Set(['fd00:1::2']))).toBe('fd00:1::3');
  });

  test('sequential allocation fills the subnet in order', () => {
    const taken = new Set<string>();
    for (let i = 0; i < 5; i++) taken.add(allocateAddress(v4, 4, taken));
    expect([...taken]).toEqual(['10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6']);
  });

  test('only from ipRange when set', () => {
    const cfg = { ...v4, ipRange: '10.1.0.128/30' };
    const taken = new Set<string>();
    for (let i = 0; i < 4; i++) taken.add(allocateAddress(cfg, 4, taken));
    expect([...taken]).toEqual(['10.1.0.128', '10.1.0.129', '10.1.0.130', '10.1.0.131']);
    expectError(() => allocateAddress(cfg, 4, taken, undefined, 'front'), 'exhausted', /^no free IPv4 address left in ip range 10\.1\.0\.128\/30 of subnet 10\.1\.0\.0\/24 on network "front"/);
  });

  test('an ipRange at the edges never yields network, broadcast or gateway', () => {
    expect(allocateAddress({ ...v4, ipRange: '10.1.0.0/30' }, 4, none)).toBe('10.1.0.2');
    const top = { ...v4, ipRange: '10.1.0.252/30' };
    expect(allocateAddress(top, 4, new Set(['10.1.0.252', '10.1.0.253']))).toBe('10.1.0.254');
    expectError(() => allocateAddress(top, 4, new Set(['10.1.0.252', '10.1.0.253', '10.1.0.254'])), 'exhausted', /no free IPv4 address/);
  });

  test('exhausted when full', () => {
    const small: SubnetConfig = { subnet: '10.9.0.0/30', gateway: '10.9.0.1' };
    expect(allocateAddress(small, 4, none)).toBe('10.9.0.2');
    expectError(() => allocateAddress(small, 4, new Set(['10.9.0.2'])), 'exhausted', /^no free IPv4 address left in subnet 10\.9\.0\.0\/30; disconnect an endpoint or use a larger subnet/);
  });

  test('finds the first free address past 10 000 taken ones', () => {
    const cfg: SubnetConfig = { subnet: '10.0.0.0/16', gateway: '10.0.0.1' };
    const taken = new Set<string>();
    for (let i = 2n; i < 10_002n; i++) taken.add(nthAddress(cfg.subnet, i));
    expect(allocateAddress(cfg, 4, taken)).toBe('10.0.39.18');
    expect(allocateAddress(cfg, 4, taken, '10.0.200.1')).toBe('10.0.200.1');
  });

  test('500 sequential allocations', () => {
    const taken = new Set<string>();
    const cfg: SubnetConfig = { subnet: 'fd00:2::/64', gateway: 'fd00:2::1' };
    for (let i = 0; i < 500; i++) taken.add(allocateAddress(cfg, 6, taken));
    expect(taken.size).toBe(500);
    expect(taken.has('fd00:2::1f5')).toBe(true);
  });
});

describe('allocateAddress: requested', () => {
  test('accepted and canonicalised', () => {
    expect(allocateAddress(v4, 4, none, '10.1.0.77')).toBe('10.1.0.77');
    expect(allocateAddress(v6, 6, none, 'FD00:1:0::00AB')).toBe('fd00:1::ab');
  });

  test('may lie outside ipRange but inside the subnet, as in Docker', () => {
    expect(allocateAddress({ ...v4, ipRange: '10.1.0.128/25' }, 4, none, '10.1.0.5')).toBe('10.1.0.5');
  });

  test('outside the subnet', () => {
    expectError(() => allocateAddress(v4, 4, none, '10.2.0.5', 'front'), 'invalidInput', /^ip: "10\.2\.0\.5" is outside subnet 10\.1\.0\.0\/24 on network "front"/);
    expectError(() => allocateAddress(v4, 4, none, 'fd00:1::5'), 'invalidInput', /"fd00:1::5" is outside subnet 10\.1\.0\.0\/24/);
    expectError(() => allocateAddress(v6, 6, none, 'fd00:2::5'), 'invalidInput', /^ip6: "fd00:2::5" is outside subnet fd00:1::\/64/);
  });

  test('reserved addresses', () => {
    expectError(() => allocateAddress(v4, 4, none, '10.1.0.0'), 'invalidInput', /"10\.1\.0\.0" is the network address of 10\.1\.0\.0\/24; pick a host address/);
    expectError(() => allocateAddress(v4, 4, none, '10.1.0.255'), 'invalidInput', /"10\.1\.0\.255" is the broadcast address of 10\.1\.0\.0\/24/);
    expectError(() => allocateAddress(v6, 6, none, 'fd00:1::'), 'invalidInput', /"fd00:1::" is the network address of fd00:1::\/64/);
    // IPv6 has no broadcast: the last address is fine.
    expect(allocateAddress(v6, 6, none, 'fd00:1::ffff:ffff:ffff:ffff')).toBe('fd00:1::ffff:ffff:ffff:ffff');
    expectError(() => allocateAddress(v4, 4, none, '10.1.0.1', 'front'), 'conflict', /"10\.1\.0\.1" is the gateway address on network "front"/);
  });

  test('already taken', () => {
    expectError(
      () => allocateAddress(v4, 4, new Set(['10.1.0.5']), '10.1.0.5', 'front'),
      'conflict',
      /^address 10\.1\.0\.5 is already in use on network "front"$/,
    );
    expectError(() => allocateAddress(v6, 6, new Set(['fd00:1::5']), 'fd00:1:0:0::5'), 'conflict', /address fd00:1::5 is already in use/);
  });

  test('not an address', () => {
    expectError(() => allocateAddress(v4, 4, none, '10.1.0.300'), 'invalidInput', /^ip: "10\.1\.0\.300" is not an IPv4 or IPv6 address/);
  });

  test('family mismatch between cfg and family is a bug, not user error', () => {
    expectError(() => allocateAddress(v4, 6, none), 'internal', /subnet 10\.1\.0\.0\/24 is not IPv6/);
  });
});
