/** What a `docker network create -d tnet` asks tnet for, from its CreateNetwork call. */
import { describe, expect, it } from 'vitest';
import { networkIntent } from '../../lib/docker/options.js';
import type { CreateNetworkInput } from '../../lib/docker/wire.js';
import { choosePorts, EPHEMERAL_PORTS } from '../../lib/docker/ports.js';
import { expectError } from './expect-error.js';

const NID = '6d18f2a566b25bc73865c767b16984678409ece707a386c173ca09eb1d1b4f25';
const call = (over: Partial<CreateNetworkInput> = {}): CreateNetworkInput => ({
  networkId: NID, generic: {}, ipv6: false, internal: false,
  ipv4Data: [{ addressSpace: 'LocalDefault', pool: '10.239.0.0/24', gateway: '10.239.0.1/24' }], ipv6Data: [], ...over,
});

describe('docker network create: options', () => {
  it('makes a bridge network named after Docker\'s id until Docker says its name, with Docker\'s pool and gateway, labelled as Docker\'s', () => {
    expect(networkIntent(call({ generic: { 'tnet.mtu': '1400', 'tnet.bridge.name': 'br-app' }, internal: true }))).toEqual({
      kind: 'create',
      request: {
        name: 'docker-6d18f2a566b2', driver: 'bridge', ipv4: { subnet: '10.239.0.0/24', gateway: '10.239.0.1' }, internal: true, mtu: 1400,
        options: { bridgeName: 'br-app' }, labels: { 'tnet.docker.network': NID },
      },
    });
  });

  it('takes the IPv6 pool with --ipv6', () => {
    const intent = networkIntent(call({ ipv6: true, ipv6Data: [{ addressSpace: 'LocalDefault', pool: 'fd00:39::/64', gateway: 'fd00:39::1/64' }] }));
    expect(intent.kind === 'create' && intent.request.ipv6).toEqual({ subnet: 'fd00:39::/64', gateway: 'fd00:39::1' });
  });

  it('stands for an existing network with -o tnet.network, and takes nothing else with it', () => {
    expect(networkIntent(call({ generic: { 'tnet.network': 'ov' }, ipv4Data: [{ addressSpace: 'tnet', pool: '10.40.0.0/24', gateway: '10.40.0.1/24' }] }))).toEqual({
      kind: 'attach', network: 'ov', ipv4: { subnet: '10.40.0.0/24', gateway: '10.40.0.1' }, internal: false, addressSpaces: ['tnet'],
    });
    expectError(() => networkIntent(call({ generic: { 'tnet.network': 'ov', 'tnet.mtu': '1400' } })), 'invalidInput', /-o tnet\.mtu: cannot be set together with tnet\.network/);
  });

  it('refuses unknown and invalid options with what tnet takes', () => {
    expectError(() => networkIntent(call({ generic: { 'tnet.mtuu': '1400' } })), 'invalidInput', /-o: unknown option "tnet\.mtuu"; tnet takes tnet\.network .*tnet\.mtu .*tnet\.bridge\.name/);
    expectError(() => networkIntent(call({ generic: { 'com.docker.network.driver.mtu': '1400' } })), 'invalidInput', /for Docker's bridge driver; tnet's is tnet\.mtu/);
    expectError(() => networkIntent(call({ generic: { 'tnet.mtu': 'big' } })), 'invalidInput', /-o tnet\.mtu: "big" is not allowed; expected an integer from 68 to 65535/);
    expectError(() => networkIntent(call({ generic: { 'tnet.mtu': '1000' }, ipv6: true })), 'invalidInput', /1000 is too small for IPv6/);
    expectError(() => networkIntent(call({ generic: { 'tnet.bridge.name': 'this-name-is-too-long' } })), 'invalidInput', /tnet\.bridge\.name: interface name .* has 21 characters/);
    expectError(() => networkIntent(call({ generic: { 'tnet.network': 'no/slash' } })), 'invalidInput', /-o tnet\.network: network name "no\/slash" is not allowed/);
  });

  it('refuses what a tnet network cannot be: no IPv4 pool (null IPAM), two pools of a family', () => {
    expectError(() => networkIntent(call({ ipv4Data: [{ addressSpace: 'null', pool: '0.0.0.0/0' }] })), 'invalidInput', /needs an IPv4 pool/);
    expectError(() => networkIntent(call({ ipv4Data: [{ addressSpace: 'x', pool: '10.1.0.0/24' }, { addressSpace: 'x', pool: '10.2.0.0/24' }] })), 'invalidInput', /2 IPv4 pools given .*one subnet per family/);
    expectError(() => networkIntent(call({ ipv4Data: [{ addressSpace: 'x', pool: '10.1.0.1/24' }] })), 'invalidInput', /has host bits set/);
  });
});

describe('docker run -p/-P: host ports', () => {
  const none = (): boolean => false;
  it('keeps fixed ports, picks the lowest free ephemeral port for HostPort 0 and a free one inside a range', () => {
    const taken = (_p: string, port: number): boolean => port === EPHEMERAL_PORTS.first || port === 8000;
    expect(choosePorts([
      { protocol: 'tcp', containerPort: 80, hostPort: 18080, hostPortEnd: 18080 },
      { protocol: 'tcp', containerPort: 81, hostPort: 0, hostPortEnd: 0 },
      { protocol: 'tcp', containerPort: 82, hostPort: 0, hostPortEnd: 0 },
      { protocol: 'udp', containerPort: 53, hostIp: '127.0.0.1', hostPort: 8000, hostPortEnd: 8010 },
    ], [], taken)).toEqual([
      { protocol: 'tcp', hostPort: 18080, containerPort: 80 },
      { protocol: 'tcp', hostPort: EPHEMERAL_PORTS.first + 1, containerPort: 81 },
      { protocol: 'tcp', hostPort: EPHEMERAL_PORTS.first + 2, containerPort: 82 },
      { protocol: 'udp', hostPort: 8001, containerPort: 53, hostIp: '127.0.0.1' },
    ]);
  });

  it('keeps the port an endpoint already had for the same binding (programmed again as the gateway)', () => {
    expect(choosePorts([{ protocol: 'tcp', containerPort: 80, hostPort: 0, hostPortEnd: 0 }], [{ protocol: 'tcp', hostPort: 50000, containerPort: 80 }], none))
      .toEqual([{ protocol: 'tcp', hostPort: 50000, containerPort: 80 }]);
  });

  it('says so when a range has nothing free', () => {
    expectError(() => choosePorts([{ protocol: 'tcp', containerPort: 80, hostPort: 8000, hostPortEnd: 8001 }], [], () => true), 'exhausted', /no free tcp host port from 8000 to 8001 for container port 80/);
  });
});
