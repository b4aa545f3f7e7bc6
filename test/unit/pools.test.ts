import { describe, expect, test } from 'vitest';
import { chooseSubnet } from '../../lib/ipam/pools.js';
import { expectError } from './expect-error.js';

const range = (from: number, to: number, f: (i: number) => string): string[] => Array.from({ length: to - from + 1 }, (_, k) => f(from + k));

describe('chooseSubnet', () => {
  test('first pool subnet when nothing is in the way', () => {
    expect(chooseSubnet(4, [])).toBe('172.17.0.0/16');
    expect(chooseSubnet(6, [])).toBe('fd74:6e65:7400::/64');
  });

  test('skips subnets overlapping host routes and networks, whatever their size', () => {
    expect(chooseSubnet(4, ['172.17.0.0/16'])).toBe('172.18.0.0/16');
    expect(chooseSubnet(4, ['172.17.3.0/24'])).toBe('172.18.0.0/16'); // smaller route inside
    expect(chooseSubnet(4, ['172.16.0.0/15'])).toBe('172.18.0.0/16'); // larger route covering it
    expect(chooseSubnet(4, ['172.17.255.255/32'])).toBe('172.18.0.0/16'); // last address only
    expect(chooseSubnet(4, ['172.18.0.0/16'])).toBe('172.17.0.0/16'); // later ones do not matter
    expect(chooseSubnet(4, ['172.17.0.0/16', '172.19.0.0/16', '172.18.0.0/16'])).toBe('172.20.0.0/16'); // unsorted
  });

  test('routes with host bits and plain addresses (kernel form) are accepted', () => {
    expect(chooseSubnet(4, ['172.17.4.5/24', '172.18.0.1'])).toBe('172.19.0.0/16');
  });

  test('other families and unrelated routes are ignored', () => {
    expect(chooseSubnet(4, ['fd74:6e65:7400::/48', '10.0.0.0/8'])).toBe('172.17.0.0/16');
    expect(chooseSubnet(6, ['172.17.0.0/16'])).toBe('fd74:6e65:7400::/64');
  });

  test('moves on to 192.168.0.0/16 as /20s', () => {
    expect(chooseSubnet(4, ['172.16.0.0/12'])).toBe('192.168.0.0/20');
    // a typical home LAN
    expect(chooseSubnet(4, ['172.16.0.0/12', '192.168.1.0/24'])).toBe('192.168.16.0/20');
    expect(chooseSubnet(4, ['172.16.0.0/12', ...range(0, 14, (i) => `192.168.${i * 16}.0/20`)])).toBe('192.168.240.0/20');
  });

  test('IPv6 skips taken /64s and whole blocking prefixes', () => {
    expect(chooseSubnet(6, ['fd74:6e65:7400::/64', 'fd74:6e65:7400:1::1/128'])).toBe('fd74:6e65:7400:2::/64');
    expect(chooseSubnet(6, ['fd74:6e65:7400::/49'])).toBe('fd74:6e65:7400:8000::/64');
    const many = range(0, 4999, (i) => `fd74:6e65:7400:${i.toString(16)}::/64`);
    expect(chooseSubnet(6, many)).toBe('fd74:6e65:7400:1388::/64');
  });

  test('exhausted says what was tried and how to go on', () => {
    expectError(
      () => chooseSubnet(4, ['172.16.0.0/12', '192.168.0.0/16']),
      'exhausted',
      /^no free IPv4 subnet left in the default pools \(172\.17\.0\.0\/16 to 172\.31\.0\.0\/16, 192\.168\.0\.0\/16 as \/20s\).*Choose one with --subnet$/,
    );
    expectError(() => chooseSubnet(6, ['fd74:6e65:7400::/48']), 'exhausted', /no free IPv6 subnet left .*fd74:6e65:7400::\/48 as \/64s.*--ipv6 --subnet/);
  });

  test('bad routes are reported with the value', () => {
    expectError(() => chooseSubnet(4, ['10.0.0.0/40']), 'invalidInput', /^avoided route: "10\.0\.0\.0\/40" has prefix length \/40/);
    expectError(() => chooseSubnet(4, ['nonsense']), 'invalidInput', /^avoided route: "nonsense" is not an IPv4 or IPv6 address/);
  });
});
