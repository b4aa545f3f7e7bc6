import { describe, expect, test } from 'vitest';
import { parseNetworkRequest } from '../../lib/model/network-request.js';
import { type ResolveContext, resolveNetwork } from '../../lib/model/network-resolve.js';
import type { Network } from '../../lib/model/types.js';
import { expectError } from './expect-error.js';

const id = (n: number): string => String(n).padStart(2, '0').repeat(32);
const NOW = '2025-01-02T03:04:05.000Z';

const ctx = (existing: Network[] = [], hostRoutes: string[] = []): ResolveContext => ({ id: id(99), now: NOW, existing, hostRoutes });

/** A network resolved from request fields, with a fresh id, for use as existing state. */
const net = (n: number, fields: Record<string, unknown>, existing: Network[] = []): Network =>
  resolveNetwork(parseNetworkRequest(fields, ''), { id: id(n), now: NOW, existing, hostRoutes: [] });

const resolve = (fields: Record<string, unknown>, c: ResolveContext = ctx()) => resolveNetwork(parseNetworkRequest(fields, ''), c);

describe('resolveNetwork', () => {
  test('fills every choice for a minimal bridge', () => {
    expect(resolve({ name: 'front' })).toEqual({
      id: id(99),
      name: 'front',
      driver: 'bridge',
      ipv4: { subnet: '172.17.0.0/16', gateway: '172.17.0.1' },
      internal: false,
      mtu: 1500,
      options: {},
      labels: {},
      created: NOW,
    });
  });

  test('keeps what was given', () => {
    const n = resolve({
      name: 'front',
      subnet: '10.10.0.0/24',
      gateway: '10.10.0.254',
      ipRange: '10.10.0.128/25',
      ipv6: { subnet: 'fd00:10::/64' },
      internal: true,
      mtu: 9000,
      options: { 'bridge.name': 'br-front' },
      labels: { team: 'web' },
    });
    expect(n.ipv4).toEqual({ subnet: '10.10.0.0/24', gateway: '10.10.0.254', ipRange: '10.10.0.128/25' });
    expect(n.ipv6).toEqual({ subnet: 'fd00:10::/64', gateway: 'fd00:10::1' });
    expect([n.internal, n.mtu, n.options, n.labels]).toEqual([true, 9000, { bridgeName: 'br-front' }, { team: 'web' }]);
  });

  test('ipv6: true picks from the IPv6 pool', () => {
    expect(resolve({ name: 'a', ipv6: true }).ipv6).toEqual({ subnet: 'fd74:6e65:7400::/64', gateway: 'fd74:6e65:7400::1' });
  });

  test('chosen subnets avoid existing networks and host routes', () => {
    const a = net(1, { name: 'a', ipv6: true });
    const b = net(2, { name: 'b', subnet: '172.18.5.0/24' }, [a]);
    const n = resolve({ name: 'c', ipv6: true }, ctx([a, b], ['172.19.0.0/16', '172.20.1.0/24', 'fd74:6e65:7400:1::/64']));
    expect(n.ipv4?.subnet).toBe('172.21.0.0/16');
    expect(n.ipv6?.subnet).toBe('fd74:6e65:7400:2::/64');
  });

  test('host and none get no addressing', () => {
    expect(resolve({ name: 'h', driver: 'host', labels: { a: 'b' } })).toEqual({
      id: id(99),
      name: 'h',
      driver: 'host',
      internal: false,
      mtu: 1500,
      options: {},
      labels: { a: 'b' },
      created: NOW,
    });
    expect(resolve({ name: 'n', driver: 'none' }).ipv4).toBeUndefined();
  });

  test('names are unique', () => {
    expectError(() => resolve({ name: 'a' }, ctx([net(1, { name: 'a' })])), 'exists', /^network "a" already exists/);
  });

  test('a given subnet must not overlap another network', () => {
    const back = net(1, { name: 'back', subnet: '10.1.0.0/16', ipv6: { subnet: 'fd00::/48' } });
    expectError(
      () => resolve({ name: 'front', subnet: '10.1.2.0/24' }, ctx([back])),
      'conflict',
      /^subnet 10\.1\.2\.0\/24 of network "front" overlaps network "back" \(10\.1\.0\.0\/16\)/,
    );
    expectError(() => resolve({ name: 'front', subnet: '10.0.0.0/8' }, ctx([back])), 'conflict', /overlaps network "back"/);
    expectError(
      () => resolve({ name: 'front', subnet: '10.2.0.0/16', ipv6: { subnet: 'fd00:0:0:5::/64' } }, ctx([back])),
      'conflict',
      /fd00:0:0:5::\/64 of network "front" overlaps network "back" \(fd00::\/48\)/,
    );
    // Adjacent is fine, and a host route does not block an explicit choice.
    expect(resolve({ name: 'front', subnet: '10.2.0.0/16' }, ctx([back], ['10.2.0.0/16'])).ipv4?.subnet).toBe('10.2.0.0/16');
  });

  test('checks a request built in code the same way as parsed input', () => {
    const req = { name: 'x', driver: 'bridge', ipv4: { subnet: '10.1.0.0/24', gateway: '10.2.0.1' } } as const;
    expectError(() => resolveNetwork(req, ctx()), 'invalidInput', /^ipv4\.gateway: gateway 10\.2\.0\.1 is outside subnet 10\.1\.0\.0\/24/);
    const range = { name: 'x', driver: 'bridge', ipv4: { subnet: '10.1.0.0/24', ipRange: '10.1.1.0/25' } } as const;
    expectError(() => resolveNetwork(range, ctx()), 'invalidInput', /^ipv4\.ipRange: ip range 10\.1\.1\.0\/25 is outside subnet 10\.1\.0\.0\/24/);
    const bcast = { name: 'x', driver: 'bridge', ipv4: { subnet: '10.1.0.0/24', gateway: '10.1.0.255' } } as const;
    expectError(() => resolveNetwork(bcast, ctx()), 'invalidInput', /broadcast address/);
  });

  test('only one host and one none network', () => {
    expectError(() => resolve({ name: 'h2', driver: 'host' }, ctx([net(1, { name: 'h1', driver: 'host' })])), 'conflict', /only one network with driver "host" is allowed; network "h1"/);
    expect(resolve({ name: 'n', driver: 'none' }, ctx([net(1, { name: 'h1', driver: 'host' })])).driver).toBe('none');
  });

  test('bridge names are unique', () => {
    const a = net(1, { name: 'a', options: { 'bridge.name': 'br0' } });
    expectError(
      () => resolve({ name: 'b', options: { 'bridge.name': 'br0' } }, ctx([a])),
      'conflict',
      /^bridge name br0 is already used by network "a"; choose another bridge\.name/,
    );
    const derived = net(1, { name: 'c' });
    expectError(() => resolve({ name: 'd', options: { 'bridge.name': `tnbr-${id(1).slice(0, 10)}` } }, ctx([derived])), 'conflict', /already used by network "c"/);
  });

  test('exhausted pools say how to go on', () => {
    expectError(() => resolve({ name: 'a' }, ctx([], ['172.16.0.0/12', '192.168.0.0/16'])), 'exhausted', /no free IPv4 subnet left .* --subnet/);
  });
});
