import { describe, expect, test } from 'vitest';
import { parseSpecFile } from '../../lib/model/spec-file.js';
import { expectError } from './expect-error.js';

const bad = (text: string, message: RegExp) => expectError(() => parseSpecFile(text, 'spec.yaml'), 'invalidConfig', message);

const EXAMPLE = `
networks:
  - name: front
    driver: bridge        # default bridge
    subnet: 10.10.0.0/24
    ipv6: {subnet: fd00:10::/64}
    internal: false
    mtu: 1500
    options: {bridge.name: br-front}
    labels: {team: web}
    endpoints:
      - netns: c1         # name, path or pid
        ifname: eth0
        ip: 10.10.0.5
      - netns: "4242"
        ip6: fd00:10::7
        aliases: [db]
  - name: back
    ipv6: true
  - name: hostnet
    driver: host
    endpoints:
      - netns: /run/netns/c1
`;

describe('parseSpecFile', () => {
  test('the documented example', () => {
    const spec = parseSpecFile(EXAMPLE, 'spec.yaml');
    expect(spec.networks.map((n) => n.request)).toEqual([
      {
        name: 'front',
        driver: 'bridge',
        ipv4: { subnet: '10.10.0.0/24' },
        ipv6: { subnet: 'fd00:10::/64' },
        internal: false,
        mtu: 1500,
        options: { bridgeName: 'br-front' },
        labels: { team: 'web' },
      },
      { name: 'back', driver: 'bridge', ipv6: {} },
      { name: 'hostnet', driver: 'host' },
    ]);
    expect(spec.networks.map((n) => n.endpoints)).toEqual([
      [
        { network: 'front', netns: 'c1', ifname: 'eth0', ipv4: '10.10.0.5' },
        { network: 'front', netns: '4242', ipv6: 'fd00:10::7', aliases: ['db'] },
      ],
      [],
      [{ network: 'hostnet', netns: '/run/netns/c1' }],
    ]);
  });

  test('JSON is accepted', () => {
    const spec = parseSpecFile('{"networks": [{"name": "a", "subnet": "10.1.0.0/24", "endpoints": [{"netns": "c1"}]}]}', 'spec.json');
    expect(spec.networks[0]?.request.ipv4).toEqual({ subnet: '10.1.0.0/24' });
    expect(spec.networks[0]?.endpoints).toEqual([{ network: 'a', netns: 'c1' }]);
  });

  test('empty file and empty list', () => {
    expect(parseSpecFile('', 'spec.yaml')).toEqual({ networks: [] });
    expect(parseSpecFile('networks: []', 'spec.yaml')).toEqual({ networks: [] });
  });

  describe('malformed YAML gives line:column', () => {
    test.each([
      ['networks:\n  - name: a\n    subnet: [1\n', /^spec\.yaml:4:1: Flow sequence in block collection must be sufficiently indented and end with a \]/],
      ['networks:\n  - name: a\n  name: b\n', /^spec\.yaml:3:1: All mapping items must start at the same column/],
      ['networks: []\nnetworks: []\n', /^spec\.yaml:2:1: Map keys must be unique/],
      ['networks:\n\t- name: a\n', /^spec\.yaml:2:1: Tabs are not allowed/],
      ['{"networks": [}', /^spec\.yaml:1:15: /],
    ])('%j', (text, message) => {
      bad(text, message);
    });
  });

  describe('wrong shape says which field, in the file', () => {
    test('top level', () => {
      bad('- name: a\n', /^spec\.yaml: expected a mapping of fields, got a list/);
      bad('network: []\n', /^spec\.yaml: network: unknown field "network"; allowed fields: networks, host, peers$/);
      bad('networks: {name: a}\n', /^spec\.yaml: networks: expected a list of networks, got a mapping/);
    });

    test('network fields', () => {
      bad('networks:\n  - name: a\n  - name: b\n    subnet: 10.0.0.300/24\n', /^spec\.yaml: networks\[1\]\.subnet: "10\.0\.0\.300\/24" is not an IPv4 or IPv6 CIDR/);
      bad('networks:\n  - name: a\n    subnet: 10.1.2.3/24\n', /^spec\.yaml: networks\[0\]\.subnet: 10\.1\.2\.3\/24 has host bits set; did you mean 10\.1\.2\.0\/24\?/);
      bad('networks:\n  - name: a\n    driver: macvlan\n', /^spec\.yaml: networks\[0\]\.driver: driver "macvlan" is not supported; allowed drivers: bridge, host, none, overlay/);
      bad('networks:\n  - name: a\n    mtu: 9999999\n', /^spec\.yaml: networks\[0\]\.mtu: number 9999999 is not allowed/);
      bad('networks:\n  - name: a\n    labels: {n: 1}\n', /^spec\.yaml: networks\[0\]\.labels\.n: expected a string, got number 1; quote it/);
      bad('networks:\n  - name: a\n    endpoint: []\n', /^spec\.yaml: networks\[0\]\.endpoint: unknown field "endpoint"; allowed fields: .*labels, vni, dnsEnabled, endpoints$/);
      bad('networks:\n  - name: h\n    driver: host\n    subnet: 10.0.0.0/24\n', /^spec\.yaml: networks\[0\]\.subnet: driver "host" takes no subnet/);
      bad('networks:\n  - just-a-name\n', /^spec\.yaml: networks\[0\]: expected a mapping of fields, got string "just-a-name"/);
    });

    test('endpoint fields', () => {
      bad(
        'networks:\n  - name: front\n    subnet: 10.10.0.0/24\n    endpoints:\n      - netns: c1\n      - netns: c2\n        ip: 10.9.0.5\n',
        /^spec\.yaml: networks\[0\]\.endpoints\[1\]\.ip: "10\.9\.0\.5" is outside subnet 10\.10\.0\.0\/24 on network "front"$/,
      );
      bad('networks:\n  - name: a\n    endpoints:\n      - netns: c1\n        ip: 10.0.0.5\n', /^spec\.yaml: networks\[0\]\.endpoints\[0\]\.ip: 10\.0\.0\.5 needs a subnet on network "a"/);
      bad('networks:\n  - name: a\n    endpoints:\n      - netns: c1\n        ip6: fd00::5\n', /^spec\.yaml: networks\[0\]\.endpoints\[0\]\.ip6: network "a" has no IPv6/);
      bad('networks:\n  - name: a\n    endpoints:\n      - ifname: eth0\n', /^spec\.yaml: networks\[0\]\.endpoints\[0\]\.netns: is required/);
      bad('networks:\n  - name: a\n    endpoints:\n      - netns: c1\n        ipaddr: x\n', /^spec\.yaml: networks\[0\]\.endpoints\[0\]\.ipaddr: unknown field "ipaddr"; allowed fields: network, netns/);
      bad('networks:\n  - name: a\n    endpoints:\n      - netns: c1\n        network: b\n', /^spec\.yaml: networks\[0\]\.endpoints\[0\]\.network: not allowed here; an endpoint joins the network it is listed under \("a"\)/);
      bad('networks:\n  - name: a\n    endpoints: {netns: c1}\n', /^spec\.yaml: networks\[0\]\.endpoints: expected a list of endpoints, got a mapping/);
      bad('networks:\n  - name: a\n    endpoints:\n      - c1\n', /^spec\.yaml: networks\[0\]\.endpoints\[0\]: expected a mapping of fields, got string "c1"/);
      bad('networks:\n  - name: h\n    driver: host\n    endpoints:\n      - netns: c1\n        ip: 10.0.0.5\n', /^spec\.yaml: networks\[0\]\.endpoints\[0\]\.ip: network "h" \(driver host\) creates no interface/);
    });
  });

  describe('duplicates', () => {
    test('network names', () => {
      bad('networks:\n  - name: a\n  - name: b\n  - name: a\n', /^spec\.yaml: networks\[2\]\.name: network "a" is already defined at networks\[0\]$/);
    });

    test('the same netns twice on one network, however it is written', () => {
      bad('networks:\n  - name: a\n    endpoints:\n      - netns: c1\n      - netns: c1\n        ifname: eth1\n', /^spec\.yaml: networks\[0\]\.endpoints\[1\]\.netns: netns c1 is already attached to network "a" by networks\[0\]\.endpoints\[0\]$/);
      bad('networks:\n  - name: a\n    endpoints:\n      - netns: c1\n      - netns: /run/netns/c1\n', /endpoints\[1\]\.netns: netns \/run\/netns\/c1 is already attached to network "a"/);
      bad('networks:\n  - name: a\n    endpoints:\n      - netns: "77"\n      - netns: /proc/77/ns/net\n', /is already attached/);
    });

    test('the same netns on two networks is fine', () => {
      const spec = parseSpecFile('networks:\n  - name: a\n    endpoints: [{netns: c1}]\n  - name: b\n    endpoints: [{netns: c1}]\n', 'spec.yaml');
      expect(spec.networks.flatMap((n) => n.endpoints)).toHaveLength(2);
    });

    test('the same static address twice on one network', () => {
      bad(
        'networks:\n  - name: a\n    subnet: 10.1.0.0/24\n    endpoints:\n      - {netns: c1, ip: 10.1.0.5}\n      - {netns: c2, ip: 10.1.0.5}\n',
        /^spec\.yaml: networks\[0\]\.endpoints\[1\]\.ip: address 10\.1\.0\.5 is already given to networks\[0\]\.endpoints\[0\]$/,
      );
    });
  });
});
