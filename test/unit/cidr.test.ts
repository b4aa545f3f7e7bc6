import { describe, expect, test } from 'vitest';
import {
  addressOffset,
  canonicalIp,
  cidrContains,
  cidrsOverlap,
  enclosingCidr,
  hostRange,
  nthAddress,
  parseCidr,
  parseIp,
} from '../../lib/model/cidr.js';
import { expectError } from './expect-error.js';

describe('parseIp', () => {
  test.each([
    ['10.0.0.1', 4, '10.0.0.1'],
    ['0.0.0.0', 4, '0.0.0.0'],
    ['255.255.255.255', 4, '255.255.255.255'],
    ['::', 6, '::'],
    ['::1', 6, '::1'],
    ['FD00:0:0:0:0:0:0:1', 6, 'fd00::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', 6, '2001:db8::1:0:0:1'], // first longest run wins
    ['2001:db8:0:0:1:0:0:0', 6, '2001:db8:0:0:1::'], // the longer run wins
    ['2001:db8:0:1:1:1:1:1', 6, '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['1:2:3:4:5:6:7::', 6, '1:2:3:4:5:6:7:0'],
    ['::ffff:10.1.2.3', 6, '::ffff:10.1.2.3'],
    ['::ffff:a01:203', 6, '::ffff:10.1.2.3'],
    ['64:ff9b::192.0.2.1', 6, '64:ff9b::c000:201'],
    ['fe80::', 6, 'fe80::'],
  ] as const)('%s', (s, family, address) => {
    expect(parseIp(s)).toEqual({ family, address });
    expect(canonicalIp(s)).toBe(address);
  });

  test.each([
    '',
    '10.0.0',
    '10.0.0.1.2',
    '10.0.0.256',
    '010.0.0.1',
    '10.0.0.-1',
    '10.0.0.1/24',
    ' 10.0.0.1',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1::2::3',
    '12345::',
    'fe80::1%eth0',
    'g::1',
    ':1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8::',
    '::ffff:10.1.2',
    'localhost',
  ])('refuses %j', (s) => {
    expectError(() => parseIp(s), 'invalidInput', /is not an IPv4 or IPv6 address/);
  });

  test('names the field and the value', () => {
    expectError(() => parseIp('10.0.0.300', 'gateway'), 'invalidInput', /^gateway: "10\.0\.0\.300" is not an IPv4 or IPv6 address$/);
  });
});

describe('parseCidr', () => {
  test.each([
    ['10.1.0.0/16', 4, '10.1.0.0', 16],
    ['0.0.0.0/0', 4, '0.0.0.0', 0],
    ['10.1.2.3/32', 4, '10.1.2.3', 32],
    ['FD00:0010::/64', 6, 'fd00:10::', 64],
    ['::/0', 6, '::', 0],
    ['fd00::1/128', 6, 'fd00::1', 128],
  ] as const)('%s', (s, family, network, prefixLength) => {
    const c = parseCidr(s);
    expect({ family: c.family, network: c.network, prefixLength: c.prefixLength }).toEqual({ family, network, prefixLength });
    expect(c.toString()).toBe(`${network}/${prefixLength}`);
    expect(`${c}`).toBe(`${network}/${prefixLength}`);
  });

  test('host bits set names the right network', () => {
    expectError(() => parseCidr('10.1.2.3/24', 'subnet'), 'invalidInput', /^subnet: 10\.1\.2\.3\/24 has host bits set; did you mean 10\.1\.2\.0\/24\?$/);
    expectError(() => parseCidr('fd00::1/64'), 'invalidInput', /did you mean fd00::\/64\?/);
  });

  test.each(['10.0.0.0', '10.0.0.300/24', '10.0.0.0/', '10.0.0.0/a', '10.0.0.0/024', '/24', 'fd00::/64/1', ''])('refuses %j', (s) => {
    expectError(() => parseCidr(s, 'subnet'), 'invalidInput', /^subnet: ".*" is not an IPv4 or IPv6 CIDR \(expected ADDRESS\/PREFIX/);
  });

  test('prefix too long says the allowed range', () => {
    expectError(() => parseCidr('10.0.0.0/33'), 'invalidInput', /\/33; IPv4 allows \/0 to \/32/);
    expectError(() => parseCidr('fd00::/129'), 'invalidInput', /\/129; IPv6 allows \/0 to \/128/);
  });

  test('enclosingCidr accepts host bits and plain addresses', () => {
    expect(enclosingCidr('192.168.1.5/24').toString()).toBe('192.168.1.0/24');
    expect(enclosingCidr('192.168.1.5').toString()).toBe('192.168.1.5/32');
    expect(enclosingCidr('fd00::5').toString()).toBe('fd00::5/128');
  });
});

describe('containment and overlap', () => {
  test('cidrContains', () => {
    expect(cidrContains('10.1.0.0/16', '10.1.255.255')).toBe(true);
    expect(cidrContains('10.1.0.0/16', '10.1.0.0')).toBe(true);
    expect(cidrContains('10.1.0.0/16', '10.2.0.0')).toBe(false);
    expect(cidrContains('10.1.0.0/16', '10.0.255.255')).toBe(false);
    expect(cidrContains('fd00::/64', 'fd00::ffff:ffff:ffff:ffff')).toBe(true);
    expect(cidrContains('fd00::/64', 'fd00:0:0:1::')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '1.2.3.4')).toBe(true);
    // An IPv4-mapped IPv6 address is not an IPv4 address.
    expect(cidrContains('10.0.0.0/8', '::ffff:10.0.0.1')).toBe(false);
    expect(cidrContains('::/0', '10.0.0.1')).toBe(false);
  });

  test.each([
    ['10.1.0.0/16', '10.1.2.0/24', true], // contains
    ['10.1.2.0/24', '10.1.0.0/16', true], // contained
    ['10.1.0.0/24', '10.1.0.0/24', true], // equal
    ['10.1.0.0/24', '10.1.1.0/24', false], // adjacent
    ['10.1.1.0/24', '10.1.0.0/24', false],
    ['10.1.0.0/24', '10.1.0.255/32', true], // last address
    ['10.1.0.0/24', '10.1.1.0/32', false], // first address after
    ['0.0.0.0/0', '192.168.0.0/16', true],
    ['10.0.0.0/8', 'fd00::/8', false], // different families
    ['fd00::/64', 'fd00::/48', true],
    ['fd00:0:0:1::/64', 'fd00::/64', false],
  ] as const)('%s vs %s', (a, b, overlap) => {
    expect(cidrsOverlap(a, b)).toBe(overlap);
    expect(cidrsOverlap(b, a)).toBe(overlap);
  });

  test('invalid input is reported, not treated as no overlap', () => {
    expectError(() => cidrsOverlap('10.0.0.0/8', '10.1.0.1/16'), 'invalidInput', /host bits set/);
    expectError(() => cidrContains('10.0.0.0/8', 'x'), 'invalidInput', /"x" is not an IPv4 or IPv6 address/);
  });
});

describe('address arithmetic', () => {
  test('nthAddress', () => {
    expect(nthAddress('10.1.0.0/16', 0n)).toBe('10.1.0.0');
    expect(nthAddress('10.1.0.0/16', 1n)).toBe('10.1.0.1');
    expect(nthAddress('10.1.0.0/16', 256n)).toBe('10.1.1.0');
    expect(nthAddress('10.1.0.0/16', 65535n)).toBe('10.1.255.255');
    expect(nthAddress('fd00::/64', 1n)).toBe('fd00::1');
    expect(nthAddress('fd00::/64', 0x10000n)).toBe('fd00::1:0');
    expect(nthAddress('255.255.255.0/24', 255n)).toBe('255.255.255.255');
  });

  test('nthAddress outside the block', () => {
    expectError(() => nthAddress('10.1.0.0/24', 256n), 'invalidInput', /address #256 is outside 10\.1\.0\.0\/24, which has 256 addresses/);
    expectError(() => nthAddress('10.1.0.0/24', -1n), 'invalidInput', /address #-1 is outside/);
  });

  test('addressOffset is the inverse of nthAddress', () => {
    for (const [cidr, n] of [['10.1.0.0/16', 513n], ['fd00::/64', 0xffff_ffffn], ['0.0.0.0/0', 0n]] as const) {
      expect(addressOffset(cidr, nthAddress(cidr, n))).toBe(n);
    }
    expectError(() => addressOffset('10.1.0.0/24', '10.2.0.1'), 'invalidInput', /10\.2\.0\.1 is outside 10\.1\.0\.0\/24/);
    expectError(() => addressOffset('10.1.0.0/24', 'fd00::1'), 'invalidInput', /is outside/);
  });

  test('hostRange excludes network and IPv4 broadcast only', () => {
    expect(hostRange('10.0.0.0/30')).toEqual({ first: 0x0a000001n, last: 0x0a000002n });
    const v6 = hostRange('fd00::/126');
    expect(v6.last - v6.first).toBe(2n);
  });
});
