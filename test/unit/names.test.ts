import { describe, expect, test } from 'vitest';
import {
  bridgeNameFor,
  endpointIdFor,
  hostVethNameFor,
  macFor,
  ownerAlias,
  parseOwnerAlias,
  validateIfname,
  validateMac,
  validateNetworkName,
} from '../../lib/model/names.js';
import { expectError } from './expect-error.js';

const NET_ID = '3f5a9c0e12b47d8e6a1f0c2b9d4e7a6f5c3b2a1908f7e6d5c4b3a29180f7e6d5';

describe('derived names (golden)', () => {
  // These values are recorded on hosts and in stores: a change here orphans existing objects.
  const epId = endpointIdFor(NET_ID, '/run/netns/c1', 'eth0');

  test('golden values', () => {
    expect({
      bridge: bridgeNameFor({ id: NET_ID, options: {} }),
      endpointId: epId,
      veth: hostVethNameFor(epId),
      mac: macFor(epId),
      networkAlias: ownerAlias(NET_ID),
      endpointAlias: ownerAlias(NET_ID, epId),
    }).toEqual({
      bridge: 'tnbr-3f5a9c0e12',
      // printf '<network id>\0/run/netns/c1\0eth0' | sha256sum
      endpointId: 'dd1445dc83892457d32d23c8f14ecbe0cd2c7a98822293f42916df7c2c3279f2',
      veth: 'tnvdd1445dc8389',
      // printf 'mac\0<endpoint id>' | sha256sum → a88ba77b47…
      mac: '02:a8:8b:a7:7b:47',
      networkAlias: 'tnet:3f5a9c0e12b4',
      endpointAlias: 'tnet:3f5a9c0e12b4:dd1445dc8389',
    });
  });

  test('kernel names fit IFNAMSIZ', () => {
    expect(bridgeNameFor({ id: NET_ID, options: {} })).toHaveLength(15);
    expect(hostVethNameFor(epId)).toHaveLength(15);
  });

  test('bridge.name option wins', () => {
    expect(bridgeNameFor({ id: NET_ID, options: { bridgeName: 'br-front' } })).toBe('br-front');
  });

  test('endpoint id depends on every part, unambiguously', () => {
    const ids = new Set([
      endpointIdFor(NET_ID, '/run/netns/c1', 'eth0'),
      endpointIdFor(NET_ID, '/run/netns/c1', 'eth1'),
      endpointIdFor(NET_ID, '/run/netns/c2', 'eth0'),
      endpointIdFor(NET_ID.replace('3', '4'), '/run/netns/c1', 'eth0'),
      endpointIdFor(NET_ID, '/run/netns/c1e', 'th0'),
    ]);
    expect(ids.size).toBe(5);
    expect(endpointIdFor(NET_ID, '/run/netns/c1', 'eth0')).toMatch(/^[0-9a-f]{64}$/);
  });

  test('MACs are locally administered unicast and stable', () => {
    for (let i = 0; i < 200; i++) {
      const mac = macFor(endpointIdFor(NET_ID, `/proc/${i}/ns/net`, 'eth0'));
      expect(validateMac(mac)).toBe(mac);
      expect(mac.startsWith('02:')).toBe(true);
    }
    expect(macFor(epId)).toBe(macFor(epId));
  });

  test('owner alias round-trips', () => {
    expect(parseOwnerAlias(ownerAlias(NET_ID))).toEqual({ networkIdPrefix: NET_ID.slice(0, 12) });
    expect(parseOwnerAlias(ownerAlias(NET_ID, epId))).toEqual({
      networkIdPrefix: NET_ID.slice(0, 12),
      endpointIdPrefix: epId.slice(0, 12),
    });
  });

  test.each(['', 'docker0', 'tnet:', 'tnet:3f5a9c0e12b', 'tnet:3f5a9c0e12b4:', 'tnet:3F5A9C0E12B4', 'xtnet:3f5a9c0e12b4', 'tnet:3f5a9c0e12b4:dd1445dc8389:x'])(
    'parseOwnerAlias(%j) is not ours',
    (alias) => {
      expect(parseOwnerAlias(alias)).toBeUndefined();
    },
  );
});

describe('validateIfname', () => {
  test.each(['eth0', 'a', 'x'.repeat(15), 'br-front', 'veth_1.2', 'ÄÖ'])('accepts %j', (name) => {
    expect(validateIfname(name, 'ifname')).toBe(name);
  });

  test('length', () => {
    expectError(() => validateIfname('x'.repeat(16), 'ifname'), 'invalidInput', /^ifname: interface name "x{16}" has 16 characters; Linux allows 1 to 15$/);
    expectError(() => validateIfname('', 'options.bridge.name'), 'invalidInput', /^options\.bridge\.name: .* has 0 characters; Linux allows 1 to 15/);
  });

  test.each(['a/b', 'a:b', 'a b', 'a\tb', 'eth%d'])('refuses %j', (name) => {
    expectError(() => validateIfname(name, 'ifname'), 'invalidInput', /contains '\/', ':', '%' or whitespace/);
  });

  test.each(['.', '..'])('refuses %j', (name) => {
    expectError(() => validateIfname(name, 'ifname'), 'invalidInput', /"\.\.?" is not allowed; "\." and "\.\." are reserved/);
  });
});

describe('validateNetworkName', () => {
  test.each(['a', 'front', 'my_net.1-b', '0net', 'x'.repeat(64)])('accepts %j', (name) => {
    expect(validateNetworkName(name)).toBe(name);
  });

  test.each(['', '-net', '.net', '_net', 'a b', 'a/b', 'ü', 'a:b'])('refuses %j', (name) => {
    expectError(() => validateNetworkName(name), 'invalidInput', /^name: network name ".*" is not allowed; use letters, digits, '_', '\.' and '-', starting with a letter or digit$/);
  });

  test('length', () => {
    expectError(() => validateNetworkName('x'.repeat(65)), 'invalidInput', /has 65 characters; at most 64 are allowed/);
  });
});

describe('validateMac', () => {
  test('canonical lower case', () => {
    expect(validateMac('02:42:AC:11:00:02')).toBe('02:42:ac:11:00:02');
    expect(validateMac('02-42-ac-11-00-02')).toBe('02:42:ac:11:00:02');
  });

  test.each(['', '02:42:ac:11:00', '02:42:ac:11:00:02:03', '0242ac110002', '02:42-ac:11:00:02', 'g2:42:ac:11:00:02', '2:42:ac:11:0:2'])(
    'refuses %j',
    (s) => {
      expectError(() => validateMac(s), 'invalidInput', /^mac: ".*" is not a MAC address; expected six hex pairs/);
    },
  );

  test.each(['01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '33:33:00:00:00:01'])('refuses multicast %s', (s) => {
    expectError(() => validateMac(s), 'invalidInput', /is a multicast or broadcast address; an interface needs a unicast MAC/);
  });

  test('refuses all-zero', () => {
    expectError(() => validateMac('00:00:00:00:00:00'), 'invalidInput', /00:00:00:00:00:00 is not allowed/);
  });
});
