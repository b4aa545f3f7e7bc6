import { describe, expect, test } from 'vitest';
import { netnsPath, parseEndpointRequest, validateEndpointAgainstNetwork } from '../../lib/model/endpoint-request.js';
import { parsePortList } from '../../lib/model/ports.js';
import type { EndpointRequest, Network } from '../../lib/model/types.js';
import { expectError } from './expect-error.js';

const parse = (input: unknown) => parseEndpointRequest(input, '');
const bad = (input: unknown, message: RegExp) => expectError(() => parse(input), 'invalidInput', message);

describe('parseEndpointRequest', () => {
  test('minimal', () => {
    expect(parse({ network: 'front', netns: 'c1' })).toEqual({ network: 'front', netns: 'c1' });
  });

  test('everything, canonicalised', () => {
    expect(
      parse({ network: 'front', netns: '/proc/42/ns/net', ifname: 'eth1', ip: '10.1.0.5', ip6: 'FD00::0005', mac: '02:AA:BB:CC:DD:EE', aliases: ['web', 'web.local'] }),
    ).toEqual({
      network: 'front',
      netns: '/proc/42/ns/net',
      ifname: 'eth1',
      ipv4: '10.1.0.5',
      ipv6: 'fd00::5',
      mac: '02:aa:bb:cc:dd:ee',
      aliases: ['web', 'web.local'],
    });
  });

  test('netns as name, path or pid', () => {
    expect(netnsPath('c1')).toBe('/run/netns/c1');
    expect(netnsPath('1234')).toBe('/proc/1234/ns/net');
    expect(netnsPath('/var/run/netns/x')).toBe('/var/run/netns/x');
    expect(netnsPath('0x')).toBe('/run/netns/0x');
  });

  describe('bad input', () => {
    test('unknown fields are listed', () => {
      bad({ network: 'a', netns: 'c1', ipv4: '10.0.0.1' }, /^ipv4: unknown field "ipv4"; allowed fields: network, netns, ifname, ip, ip6, mac, name, aliases, ports$/);
    });

    test('required fields', () => {
      bad({ netns: 'c1' }, /^network: is required/);
      bad({ network: 'a' }, /^netns: is required/);
      bad('x', /^expected a mapping of fields, got string "x"/);
    });

    test('network and netns', () => {
      bad({ network: 'a b', netns: 'c1' }, /^network: network name "a b" is not allowed/);
      bad({ network: 'a', netns: 'a/b' }, /^netns: "a\/b" is not a netns; give a name under \/run\/netns, an absolute path or a PID/);
      bad({ network: 'a', netns: '..' }, /^netns: "\.\." is not a netns/);
      bad({ network: 'a', netns: 12 }, /^netns: expected a string, got number 12/);
    });

    test('ifname', () => {
      bad({ network: 'a', netns: 'c1', ifname: 'averyverylongname' }, /^ifname: interface name "averyverylongname" has 17 characters; Linux allows 1 to 15/);
      bad({ network: 'a', netns: 'c1', ifname: 'e/0' }, /^ifname: interface name "e\/0" contains/);
    });

    test('addresses of the wrong family or malformed', () => {
      bad({ network: 'a', netns: 'c1', ip: 'fd00::5' }, /^ip: fd00::5 is an IPv6 address; use ip6 for IPv6/);
      bad({ network: 'a', netns: 'c1', ip6: '10.0.0.5' }, /^ip6: 10\.0\.0\.5 is an IPv4 address; use ip for IPv4/);
      bad({ network: 'a', netns: 'c1', ip: '10.0.0.5/24' }, /^ip: "10\.0\.0\.5\/24" is not an IPv4 or IPv6 address/);
    });

    test('mac', () => {
      bad({ network: 'a', netns: 'c1', mac: '01:00:5e:00:00:01' }, /^mac: 01:00:5e:00:00:01 is a multicast or broadcast address/);
      bad({ network: 'a', netns: 'c1', mac: 'zz' }, /^mac: "zz" is not a MAC address/);
    });

    test('aliases', () => {
      bad({ network: 'a', netns: 'c1', aliases: 'web' }, /^aliases: expected a list of strings, got string "web"/);
      bad({ network: 'a', netns: 'c1', aliases: ['web', 'bad alias'] }, /^aliases\[1\]: alias "bad alias" is not a DNS name/);
      bad({ network: 'a', netns: 'c1', aliases: ['web', 'web'] }, /^aliases\[1\]: alias "web" is given twice/);
      bad({ network: 'a', netns: 'c1', aliases: [3] }, /^aliases\[0\]: expected a string, got number 3/);
    });
  });
});

describe('validateEndpointAgainstNetwork', () => {
  const front: Network = {
    id: 'f'.repeat(64),
    name: 'front',
    driver: 'bridge',
    ipv4: { subnet: '10.10.0.0/24', gateway: '10.10.0.1', ipRange: '10.10.0.128/25' },
    internal: false,
    mtu: 1500,
    options: {},
    labels: {},
    created: '2025-01-01T00:00:00.000Z',
  };
  const dual: Network = { ...front, name: 'dual', ipv6: { subnet: 'fd00:10::/64', gateway: 'fd00:10::1' } };
  const host: Network = { id: 'e'.repeat(64), name: 'host', driver: 'host', internal: false, mtu: 1500, options: {}, labels: {}, created: front.created };
  const ep = (fields: Partial<EndpointRequest>): EndpointRequest => ({ network: 'front', netns: 'c1', ...fields });

  test('addresses inside the subnets pass (ipRange does not limit static addresses)', () => {
    validateEndpointAgainstNetwork(ep({ ipv4: '10.10.0.5' }), front);
    validateEndpointAgainstNetwork(ep({ ipv4: '10.10.0.200', ipv6: 'fd00:10::5' }), dual);
    validateEndpointAgainstNetwork(ep({ mac: '02:00:00:00:00:01' }), front);
  });

  test('outside the subnet, with path', () => {
    expectError(
      () => validateEndpointAgainstNetwork(ep({ ipv4: '10.9.0.5' }), front, 'spec.yaml: networks[0].endpoints[1]'),
      'invalidInput',
      /^spec\.yaml: networks\[0\]\.endpoints\[1\]\.ip: "10\.9\.0\.5" is outside subnet 10\.10\.0\.0\/24 on network "front"$/,
    );
    expectError(() => validateEndpointAgainstNetwork(ep({ ipv6: 'fd00:11::5' }), dual), 'invalidInput', /^ip6: "fd00:11::5" is outside subnet fd00:10::\/64/);
  });

  test('reserved addresses', () => {
    expectError(() => validateEndpointAgainstNetwork(ep({ ipv4: '10.10.0.1' }), front), 'conflict', /^ip: "10\.10\.0\.1" is the gateway address on network "front"/);
    expectError(() => validateEndpointAgainstNetwork(ep({ ipv4: '10.10.0.255' }), front), 'invalidInput', /broadcast address of 10\.10\.0\.0\/24/);
    expectError(() => validateEndpointAgainstNetwork(ep({ ipv4: '10.10.0.0' }), front), 'invalidInput', /network address of 10\.10\.0\.0\/24/);
  });

  test('ip6 on a network without IPv6', () => {
    expectError(
      () => validateEndpointAgainstNetwork(ep({ ipv6: 'fd00:10::5' }), front),
      'invalidInput',
      /^ip6: network "front" has no IPv6; create it with --ipv6 \(ipv6: true\) to give fd00:10::5/,
    );
  });

  test('host and none take no addresses or MAC', () => {
    expectError(() => validateEndpointAgainstNetwork(ep({ ipv4: '10.10.0.5' }), host), 'invalidInput', /^ip: network "host" \(driver host\) creates no interface, so it takes no ip/);
    expectError(() => validateEndpointAgainstNetwork(ep({ mac: '02:00:00:00:00:01' }), { ...host, driver: 'none' }), 'invalidInput', /driver none\) creates no interface, so it takes no mac/);
    validateEndpointAgainstNetwork(ep({}), host);
  });

  test('ports: bridge and overlay endpoints publish; host, none and internal networks cannot', () => {
    const ports = parsePortList(['8080:80'], 'ports');
    validateEndpointAgainstNetwork(ep({ ports }), front);
    // The overlay was refused here once: the check predated it and allowed 'bridge' only.
    validateEndpointAgainstNetwork(ep({ ports }), { ...front, driver: 'overlay' });
    expectError(() => validateEndpointAgainstNetwork(ep({ ports }), host), 'invalidInput', /^ports: network "host" \(driver host\) gives the container no address of its own/);
    expectError(() => validateEndpointAgainstNetwork(ep({ ports }), { ...host, driver: 'none' }), 'invalidInput', /\(driver none\) gives the container no address/);
    expectError(() => validateEndpointAgainstNetwork(ep({ ports }), { ...front, internal: true }), 'invalidInput', /^ports: network "front" is internal/);
  });

  test('against a request whose subnet is not fixed yet', () => {
    expectError(
      () => validateEndpointAgainstNetwork(ep({ ipv4: '10.10.0.5' }), { name: 'front', driver: 'bridge' }),
      'invalidInput',
      /^ip: 10\.10\.0\.5 needs a subnet on network "front"; give the network a subnet/,
    );
    expectError(
      () => validateEndpointAgainstNetwork(ep({ ipv6: 'fd00::5' }), { name: 'front', driver: 'bridge', ipv6: {} }),
      'invalidInput',
      /^ip6: fd00::5 needs a subnet on network "front"/,
    );
    // The default gateway (first host address) is reserved even before it is recorded.
    expectError(() => validateEndpointAgainstNetwork(ep({ ipv4: '10.10.0.1' }), { name: 'front', driver: 'bridge', ipv4: { subnet: '10.10.0.0/24' } }), 'conflict', /gateway address/);
  });
});
