/** Docker's plugin calls as Docker 20.10 sends them (bodies from ../shared/DOCKER-PLUGIN-FACTS.md) into typed calls. */
import { describe, expect, it } from 'vitest';
import { apiOf, decodeCall, errorReply } from '../../lib/docker/wire.js';
import { expectError } from './expect-error.js';

const NID = '61c4c0e2f5ad1b2e8d3f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a098765b94';
const EID = '5ea3070077c4a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a';

describe('Docker plugin wire', () => {
  it('takes the activation and capability calls with empty bodies', () => {
    expect(decodeCall('/Plugin.Activate', '')).toEqual({ kind: 'activate' });
    expect(decodeCall('/NetworkDriver.GetCapabilities', '')).toEqual({ kind: 'networkCapabilities' });
    expect(decodeCall('/IpamDriver.GetCapabilities', '  ')).toEqual({ kind: 'ipamCapabilities' });
    expect(decodeCall('/IpamDriver.GetDefaultAddressSpaces', '')).toEqual({ kind: 'addressSpaces' });
  });

  it('refuses an empty body for every other call: Docker resends a call the plugin died on with an empty body', () => {
    // Decoded as {}, the resent RequestPool of `--subnet 10.61.0.0/24` would get a subnet of tnet's choice.
    for (const path of ['/IpamDriver.RequestPool', '/IpamDriver.RequestAddress', '/NetworkDriver.CreateNetwork', '/NetworkDriver.CreateEndpoint', '/NetworkDriver.DeleteEndpoint']) {
      expectError(() => decodeCall(path, ''), 'busy', new RegExp(`${path.slice(1).replace('.', '\\.')} came without its body: .*run the docker command again`));
    }
  });

  it('reads CreateNetwork: -o options, --ipv6, --internal and the pools', () => {
    const body = {
      NetworkID: NID,
      Options: { 'com.docker.network.enable_ipv6': false, 'com.docker.network.internal': true, 'com.docker.network.generic': { 'tnet.mtu': '1400' } },
      IPv4Data: [{ AddressSpace: 'LocalDefault', Gateway: '10.239.0.1/24', Pool: '10.239.0.0/24' }],
      IPv6Data: [],
    };
    expect(decodeCall('/NetworkDriver.CreateNetwork', JSON.stringify(body))).toEqual({
      kind: 'createNetwork', networkId: NID, generic: { 'tnet.mtu': '1400' }, ipv6: false, internal: true,
      ipv4Data: [{ addressSpace: 'LocalDefault', pool: '10.239.0.0/24', gateway: '10.239.0.1/24' }], ipv6Data: [],
    });
  });

  it('reads CreateEndpoint with Docker\'s address and MAC, or none (null IPAM)', () => {
    const withAll = { NetworkID: NID, EndpointID: EID, Interface: { Address: '10.239.0.50/24', AddressIPv6: '', MacAddress: '02:42:0a:ef:00:32' }, Options: { 'com.docker.network.portmap': [] } };
    expect(decodeCall('/NetworkDriver.CreateEndpoint', JSON.stringify(withAll))).toEqual({ kind: 'createEndpoint', networkId: NID, endpointId: EID, address: '10.239.0.50/24', mac: '02:42:0a:ef:00:32' });
    const none = { NetworkID: NID, EndpointID: EID, Interface: { Address: '', AddressIPv6: '', MacAddress: '' } };
    expect(decodeCall('/NetworkDriver.CreateEndpoint', JSON.stringify(none))).toEqual({ kind: 'createEndpoint', networkId: NID, endpointId: EID });
  });

  it('reads Join and ProgramExternalConnectivity with their port maps, and the endpoint calls', () => {
    expect(decodeCall('/NetworkDriver.Join', JSON.stringify({ NetworkID: NID, EndpointID: EID, SandboxKey: '/x/exec/netns/4d55bfb61b05', Options: {} })))
      .toEqual({ kind: 'join', networkId: NID, endpointId: EID, sandboxKey: '/x/exec/netns/4d55bfb61b05', portmap: [] });
    const portmap = [
      { Proto: 17, IP: '', Port: 81, HostIP: '127.0.0.1', HostPort: 18081, HostPortEnd: 18081 },
      { Proto: 6, IP: '', Port: 8081, HostIP: '', HostPort: 0, HostPortEnd: 0 },
    ];
    const bindings = [
      { protocol: 'udp', containerPort: 81, hostIp: '127.0.0.1', hostPort: 18081, hostPortEnd: 18081 },
      { protocol: 'tcp', containerPort: 8081, hostPort: 0, hostPortEnd: 0 },
    ];
    expect(decodeCall('/NetworkDriver.ProgramExternalConnectivity', JSON.stringify({ NetworkID: NID, EndpointID: EID, Options: { 'com.docker.network.portmap': portmap } })))
      .toEqual({ kind: 'programExternalConnectivity', networkId: NID, endpointId: EID, portmap: bindings });
    expect(decodeCall('/NetworkDriver.Join', JSON.stringify({ NetworkID: NID, EndpointID: EID, SandboxKey: '/x/n', Options: { 'com.docker.network.portmap': portmap } })))
      .toEqual({ kind: 'join', networkId: NID, endpointId: EID, sandboxKey: '/x/n', portmap: bindings });
    for (const [method, kind] of [['Leave', 'leave'], ['DeleteEndpoint', 'deleteEndpoint'], ['EndpointOperInfo', 'endpointInfo'], ['RevokeExternalConnectivity', 'revokeExternalConnectivity']] as const) {
      expect(decodeCall(`/NetworkDriver.${method}`, JSON.stringify({ NetworkID: NID, EndpointID: EID }))).toEqual({ kind, networkId: NID, endpointId: EID });
    }
  });

  it('reads the IPAM calls: a pool asked for or not, the gateway, an address given with --ip', () => {
    expect(decodeCall('/IpamDriver.RequestPool', JSON.stringify({ AddressSpace: 'tnet', Pool: '10.239.1.0/24', SubPool: '', Options: { 'tnet.network': 'ov' }, V6: false })))
      .toEqual({ kind: 'requestPool', addressSpace: 'tnet', pool: '10.239.1.0/24', options: { 'tnet.network': 'ov' }, v6: false });
    expect(decodeCall('/IpamDriver.RequestPool', JSON.stringify({ AddressSpace: 'tnet', Pool: '', SubPool: '', Options: null, V6: true })))
      .toEqual({ kind: 'requestPool', addressSpace: 'tnet', options: {}, v6: true });
    expect(decodeCall('/IpamDriver.RequestAddress', JSON.stringify({ PoolID: 'p1', Address: '', Options: { RequestAddressType: 'com.docker.network.gateway' } })))
      .toEqual({ kind: 'requestAddress', poolId: 'p1', gateway: true });
    expect(decodeCall('/IpamDriver.RequestAddress', JSON.stringify({ PoolID: 'p1', Address: '10.239.1.77', Options: null })))
      .toEqual({ kind: 'requestAddress', poolId: 'p1', address: '10.239.1.77', gateway: false });
    expect(decodeCall('/IpamDriver.ReleaseAddress', JSON.stringify({ PoolID: 'p1', Address: '10.239.1.77' }))).toEqual({ kind: 'releaseAddress', poolId: 'p1', address: '10.239.1.77' });
    expect(decodeCall('/IpamDriver.ReleasePool', JSON.stringify({ PoolID: 'p1' }))).toEqual({ kind: 'releasePool', poolId: 'p1' });
  });

  it('refuses malformed bodies, naming the call and the field', () => {
    expectError(() => decodeCall('/NetworkDriver.CreateNetwork', '{"NetworkID":'), 'invalidInput', /NetworkDriver\.CreateNetwork: the body is not JSON/);
    expectError(() => decodeCall('/NetworkDriver.Join', '[1]'), 'invalidInput', /NetworkDriver\.Join: expected a JSON object, got a list/);
    expectError(() => decodeCall('/NetworkDriver.Join', JSON.stringify({ NetworkID: 'nope', EndpointID: EID, SandboxKey: '/x' })), 'invalidInput', /Join: NetworkID: expected a Docker id .*string "nope"/);
    expectError(() => decodeCall('/NetworkDriver.Join', JSON.stringify({ NetworkID: NID, EndpointID: EID })), 'invalidInput', /SandboxKey: is required/);
    expectError(() => decodeCall('/NetworkDriver.ProgramExternalConnectivity', JSON.stringify({ NetworkID: NID, EndpointID: EID, Options: { 'com.docker.network.portmap': [{ Proto: 1, Port: 80 }] } })), 'invalidInput', /Proto: number 1 is not a protocol tnet publishes/);
    expectError(() => decodeCall('/NetworkDriver.CreateNetwork', JSON.stringify({ NetworkID: NID, Options: { 'com.docker.network.generic': { 'tnet.mtu': 1400 } } })), 'invalidInput', /tnet\.mtu: expected a string, got number 1400/);
  });

  it('refuses calls it does not have, listing those it does', () => {
    expectError(() => decodeCall('/NetworkDriver.AllocateNetwork', '{}'), 'notFound', /NetworkDriver\.AllocateNetwork: tnet has no such call; it serves .*NetworkDriver\.Join/);
    expectError(() => decodeCall('/Nope', ''), 'notFound', /\/Nope: tnet has no such call/);
  });

  it('answers errors under the key each API reads: Err for the network driver, Error for IPAM', () => {
    expect(errorReply(apiOf('/NetworkDriver.Join'), 'boom')).toEqual({ Err: 'boom' });
    expect(errorReply(apiOf('/IpamDriver.RequestPool'), 'boom')).toEqual({ Error: 'boom' });
    expect(errorReply(apiOf('/What.Ever'), 'boom')).toEqual({ Err: 'boom' });
  });
});
