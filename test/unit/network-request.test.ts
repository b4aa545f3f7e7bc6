import { describe, expect, test } from 'vitest';
import { parseDriverOptions, parseLabels, parseNetworkRequest } from '../../lib/model/network-request.js';
import { expectError } from './expect-error.js';

const parse = (input: unknown) => parseNetworkRequest(input, '');
const bad = (input: unknown, message: RegExp) => expectError(() => parse(input), 'invalidInput', message);

describe('parseNetworkRequest', () => {
  test('minimal: driver defaults to bridge, nothing else is invented', () => {
    expect(parse({ name: 'front' })).toEqual({ name: 'front', driver: 'bridge' });
  });

  test('everything, canonicalised', () => {
    expect(
      parse({
        name: 'front',
        driver: 'bridge',
        subnet: '10.10.0.0/24',
        gateway: '10.10.0.254',
        ipRange: '10.10.0.128/25',
        ipv6: { subnet: 'FD00:10:0:0::/64', gateway: 'fd00:10::0001' },
        internal: true,
        mtu: 1400,
        options: { 'bridge.name': 'br-front' },
        labels: { team: 'web' },
      }),
    ).toEqual({
      name: 'front',
      driver: 'bridge',
      ipv4: { subnet: '10.10.0.0/24', gateway: '10.10.0.254', ipRange: '10.10.0.128/25' },
      ipv6: { subnet: 'fd00:10::/64', gateway: 'fd00:10::1' },
      internal: true,
      mtu: 1400,
      options: { bridgeName: 'br-front' },
      labels: { team: 'web' },
    });
  });

  test('ipv4 object form equals the shorthand', () => {
    expect(parse({ name: 'a', ipv4: { subnet: '10.1.0.0/16', gateway: '10.1.0.1' } })).toEqual(
      parse({ name: 'a', subnet: '10.1.0.0/16', gateway: '10.1.0.1' }),
    );
  });

  test('ipv6: true enables IPv6 with a chosen subnet; false is off', () => {
    expect(parse({ name: 'a', ipv6: true })).toEqual({ name: 'a', driver: 'bridge', ipv6: {} });
    expect(parse({ name: 'a', ipv6: false })).toEqual({ name: 'a', driver: 'bridge' });
  });

  test('overlay takes IPv6 like bridge: chosen or given, with the MTU floor of IPv6', () => {
    expect(parse({ name: 'o', driver: 'overlay', ipv6: true, vni: 7 })).toEqual({ name: 'o', driver: 'overlay', ipv6: {}, vni: 7 });
    expect(parse({ name: 'o', driver: 'overlay', ipv6: { subnet: 'fd00:40::/64' } }).ipv6).toEqual({ subnet: 'fd00:40::/64' });
    bad({ name: 'o', driver: 'overlay', ipv6: true, mtu: 1279 }, /^mtu: 1279 is too small for IPv6/);
  });

  test('host and none take labels only', () => {
    expect(parse({ name: 'h', driver: 'host', labels: { a: 'b' } })).toEqual({ name: 'h', driver: 'host', labels: { a: 'b' } });
    expect(parse({ name: 'n', driver: 'none' })).toEqual({ name: 'n', driver: 'none' });
  });

  test.each([
    ['subnet', '10.0.0.0/24'],
    ['gateway', '10.0.0.1'],
    ['ipRange', '10.0.0.0/25'],
    ['ipv4', { subnet: '10.0.0.0/24' }],
    ['ipv6', true],
    ['internal', true],
    ['mtu', 1500],
    ['options', {}],
  ])('host/none refuse %s', (field, value) => {
    bad({ name: 'h', driver: 'host', [field]: value }, new RegExp(`^${field}: driver "host" takes no ${field}: it uses the host's network stack`));
    bad({ name: 'n', driver: 'none', [field]: value }, new RegExp(`^${field}: driver "none" takes no ${field}: it gives the container only a loopback`));
  });

  describe('bad input', () => {
    test('not a mapping', () => {
      bad('front', /expected a mapping of fields, got string "front"/);
      bad(null, /got null/);
      bad([], /got a list/);
    });

    test('unknown field lists the allowed ones', () => {
      bad({ name: 'a', subnett: '10.0.0.0/24' }, /^subnett: unknown field "subnett"; allowed fields: name, driver, subnet, gateway, ipRange, ipv4, ipv6, internal, mtu, options, labels, vni, dnsEnabled$/);
    });

    test('name', () => {
      bad({}, /^name: is required/);
      bad({ name: 5 }, /^name: expected a string, got number 5/);
      bad({ name: '' }, /^name: must not be empty/);
      bad({ name: '-x' }, /^name: network name "-x" is not allowed/);
    });

    test('driver lists the supported ones', () => {
      bad({ name: 'a', driver: 'macvlan' }, /^driver: driver "macvlan" is not supported; allowed drivers: bridge, host, none, overlay$/);
      bad({ name: 'a', driver: 1 }, /^driver: expected a string/);
    });

    test('subnet', () => {
      bad({ name: 'a', subnet: '10.0.0.300/24' }, /^subnet: "10\.0\.0\.300\/24" is not an IPv4 or IPv6 CIDR/);
      bad({ name: 'a', subnet: '10.1.2.3/24' }, /^subnet: 10\.1\.2\.3\/24 has host bits set; did you mean 10\.1\.2\.0\/24\?/);
      bad({ name: 'a', subnet: '10.0.0.0/31' }, /^subnet: subnet 10\.0\.0\.0\/31 is too small; .* at most \/30 for IPv4/);
      bad({ name: 'a', subnet: 'fd00::/64' }, /^subnet: fd00::\/64 is an IPv6 value where IPv4 is expected; put IPv6 settings under ipv6:/);
      bad({ name: 'a', ipv6: { subnet: '10.0.0.0/24' } }, /^ipv6\.subnet: 10\.0\.0\.0\/24 is an IPv4 value where IPv6 is expected/);
      bad({ name: 'a', ipv6: { subnet: 'fd00::/127' } }, /^ipv6\.subnet: subnet fd00::\/127 is too small; .* at most \/126 for IPv6/);
    });

    test('gateway', () => {
      bad({ name: 'a', subnet: '10.1.0.0/24', gateway: '10.2.0.1' }, /^gateway: gateway 10\.2\.0\.1 is outside subnet 10\.1\.0\.0\/24$/);
      bad({ name: 'a', subnet: '10.1.0.0/24', gateway: '10.1.0.0' }, /^gateway: gateway 10\.1\.0\.0 is the network address of 10\.1\.0\.0\/24; pick a host address/);
      bad({ name: 'a', subnet: '10.1.0.0/24', gateway: '10.1.0.255' }, /^gateway: gateway 10\.1\.0\.255 is the broadcast address of 10\.1\.0\.0\/24/);
      bad({ name: 'a', subnet: '10.1.0.0/24', gateway: 'fd00::1' }, /^gateway: fd00::1 is an IPv6 value where IPv4 is expected/);
      bad({ name: 'a', subnet: '10.1.0.0/24', gateway: '10.1.0.1/24' }, /^gateway: "10\.1\.0\.1\/24" is not an IPv4 or IPv6 address/);
      bad({ name: 'a', gateway: '10.1.0.1' }, /^gateway: gateway needs a subnet; give subnet too/);
      bad({ name: 'a', ipv6: { subnet: 'fd00::/64', gateway: 'fd00::' } }, /^ipv6\.gateway: gateway fd00:: is the network address of fd00::\/64/);
      bad({ name: 'a', ipv6: { subnet: 'fd00::/64', gateway: 'fd00:0:0:1::1' } }, /^ipv6\.gateway: gateway fd00:0:0:1::1 is outside subnet fd00::\/64/);
    });

    test('ipRange', () => {
      bad({ name: 'a', subnet: '10.1.0.0/24', ipRange: '10.1.0.0/23' }, /^ipRange: ip range 10\.1\.0\.0\/23 is outside subnet 10\.1\.0\.0\/24/);
      bad({ name: 'a', subnet: '10.1.0.0/24', ipRange: '10.2.0.0/25' }, /^ipRange: ip range 10\.2\.0\.0\/25 is outside subnet/);
      bad({ name: 'a', subnet: '10.1.0.0/24', ipRange: '10.1.0.5/25' }, /^ipRange: 10\.1\.0\.5\/25 has host bits set; did you mean 10\.1\.0\.0\/25\?/);
      bad({ name: 'a', subnet: '10.1.0.0/24', ipRange: 'fd00::/64' }, /^ipRange: fd00::\/64 is an IPv6 value/);
      bad({ name: 'a', ipRange: '10.1.0.0/25' }, /^ipRange: ipRange needs a subnet/);
    });

    test('ipv4 and shorthand together', () => {
      bad({ name: 'a', subnet: '10.1.0.0/24', ipv4: { subnet: '10.1.0.0/24' } }, /^ipv4: give IPv4 settings either as subnet or under ipv4:, not both/);
    });

    test('ipv4/ipv6 objects', () => {
      bad({ name: 'a', ipv4: { subnet: '10.1.0.0/24', gw: '10.1.0.1' } }, /^ipv4\.gw: unknown field "gw"; allowed fields: subnet, gateway, ipRange$/);
      bad({ name: 'a', ipv4: '10.1.0.0/24' }, /^ipv4: expected a mapping of fields, got string/);
      bad({ name: 'a', ipv6: 'yes' }, /^ipv6: expected true, false or a mapping with subnet, gateway, ipRange; got string "yes"/);
      bad({ name: 'a', ipv6: { subnet: 64 } }, /^ipv6\.subnet: expected a string, got number 64/);
    });

    test('internal', () => {
      bad({ name: 'a', internal: 'yes' }, /^internal: expected true or false, got string "yes"/);
    });

    test('mtu', () => {
      bad({ name: 'a', mtu: 67 }, /^mtu: number 67 is not allowed; expected an integer from 68 to 65535/);
      bad({ name: 'a', mtu: 65536 }, /^mtu: number 65536 is not allowed; expected an integer from 68 to 65535/);
      bad({ name: 'a', mtu: 1500.5 }, /^mtu: number 1500\.5 is not allowed/);
      bad({ name: 'a', mtu: '1500' }, /^mtu: string "1500" is not allowed; expected an integer/);
      bad({ name: 'a', ipv6: true, mtu: 1279 }, /^mtu: 1279 is too small for IPv6, which needs an MTU of at least 1280/);
      expect(parse({ name: 'a', ipv6: true, mtu: 1280 }).mtu).toBe(1280);
      expect(parse({ name: 'a', mtu: 68 }).mtu).toBe(68);
    });

    test('options', () => {
      bad({ name: 'a', options: { 'com.docker.network.bridge.name': 'x' } }, /^options\.com\.docker\.network\.bridge\.name: unknown option ".*"; allowed options: bridge\.name$/);
      bad({ name: 'a', options: { 'bridge.name': 'a-very-long-bridge' } }, /^options\.bridge\.name: interface name "a-very-long-bridge" has 18 characters; Linux allows 1 to 15/);
      bad({ name: 'a', options: ['bridge.name=x'] }, /^options: expected a mapping/);
    });

    test('labels', () => {
      bad({ name: 'a', labels: { n: 1 } }, /^labels\.n: expected a string, got number 1; quote it/);
      bad({ name: 'a', labels: ['a=b'] }, /^labels: expected a mapping/);
      bad({ name: 'a', labels: { '': 'x' } }, /^labels: a label needs a non-empty key/);
    });
  });

  test('where prefixes every message', () => {
    expectError(() => parseNetworkRequest({ name: 'a', mtu: 1 }, 'spec.yaml: networks[3]'), 'invalidInput', /^spec\.yaml: networks\[3\]\.mtu: number 1 is not allowed/);
    expectError(() => parseNetworkRequest(7, 'spec.yaml: networks[3]'), 'invalidInput', /^spec\.yaml: networks\[3\]: expected a mapping/);
  });

  test('extra fields are allowed and listed', () => {
    expect(parseNetworkRequest({ name: 'a', endpoints: [] }, '', ['endpoints'])).toEqual({ name: 'a', driver: 'bridge' });
    expectError(() => parseNetworkRequest({ name: 'a', x: 1 }, '', ['endpoints']), 'invalidInput', /allowed fields: .*labels, vni, dnsEnabled, endpoints$/);
  });
});

describe('parseDriverOptions', () => {
  test('bridge.name', () => {
    expect(parseDriverOptions([])).toEqual({});
    expect(parseDriverOptions(['bridge.name=br0'])).toEqual({ bridgeName: 'br0' });
  });

  test('bad options', () => {
    expectError(() => parseDriverOptions(['mtu=1500']), 'invalidInput', /^--opt\.mtu: unknown option "mtu"; allowed options: bridge\.name$/);
    expectError(() => parseDriverOptions(['bridge.name']), 'invalidInput', /^--opt: "bridge\.name" is not allowed; expected key=value/);
    expectError(() => parseDriverOptions(['=x']), 'invalidInput', /^--opt: "=x" is not allowed; expected key=value/);
    expectError(() => parseDriverOptions(['bridge.name=a', 'bridge.name=b']), 'invalidInput', /^--opt: "bridge\.name" is given twice/);
    expectError(() => parseDriverOptions(['bridge.name=']), 'invalidInput', /^--opt\.bridge\.name: must not be empty/);
  });
});

describe('parseLabels', () => {
  test('key=value, key alone, = in values', () => {
    expect(parseLabels(['team=web', 'flag', 'expr=a=b', 'empty='])).toEqual({ team: 'web', flag: '', expr: 'a=b', empty: '' });
  });

  test('bad labels', () => {
    expectError(() => parseLabels(['=web']), 'invalidInput', /^--label: "=web" is not allowed; expected key=value/);
    expectError(() => parseLabels(['a=1', 'a=2']), 'invalidInput', /^--label: "a" is given twice/);
  });
});
