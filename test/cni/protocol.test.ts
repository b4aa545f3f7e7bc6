/** The pure protocol parts of the CNI plugin: env, netconf, versions, CNI_ARGS, results, errors. */
import { describe, expect, it } from 'vitest';
import { parseEnv, parseCniArgs } from '../../lib/cni/env.js';
import { CniError, cniErrorBody } from '../../lib/cni/error-codes.js';
import { decodeStdin, parseNetConf } from '../../lib/cni/netconf.js';
import { networkMismatch } from '../../lib/model/network-fit.js';
import { attachRequestOf } from '../../lib/cni/request.js';
import { dnsFor, encodeResult, endpointResult, mergeResults, parsePrevResult } from '../../lib/cni/result.js';
import { runCni } from '../../lib/cni/run.js';
import { compareVersions } from '../../lib/cni/versions.js';
import { TnetError } from '../../lib/errors.js';
import type { Endpoint, Network } from '../../lib/model/types.js';

const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };
const CONF = { cniVersion: '1.0.0', name: 'web', type: 'tnet', subnet: '10.88.0.0/24' };

const codeOf = (fn: () => unknown): { code: number; msg: string } => {
  try {
    fn();
  } catch (e) {
    if (e instanceof CniError) return { code: e.code, msg: e.message };
    throw e;
  }
  throw new Error('did not throw');
};
const conf = (extra: Record<string, unknown> = {}) => parseNetConf({ ...CONF, ...extra });

describe('environment', () => {
  it('parses a complete ADD environment and CNI_ARGS', () => {
    const env = parseEnv({ ...ENV, CNI_ARGS: 'IgnoreUnknown=1;IP=10.88.0.9;K8S_POD_NAME=a=b' });
    expect(env).toMatchObject({ command: 'ADD', containerId: 'c0ffee', netns: '/run/netns/x', ifname: 'eth0' });
    expect(env.args.get('K8S_POD_NAME')).toBe('a=b');
  });

  it.each([
    [{ CNI_COMMAND: undefined }, /CNI_COMMAND: is required/],
    [{ CNI_COMMAND: 'FROB' }, /CNI_COMMAND: "FROB" is not a CNI command/],
    [{ CNI_CONTAINERID: undefined }, /CNI_CONTAINERID: is required for ADD/],
    [{ CNI_CONTAINERID: '-bad id' }, /CNI_CONTAINERID: "-bad id"/],
    [{ CNI_NETNS: '' }, /CNI_NETNS: is required for ADD/],
    [{ CNI_NETNS: 'relative/ns' }, /CNI_NETNS: "relative\/ns" is not an absolute path/],
    [{ CNI_IFNAME: 'averyveryverylongname' }, /CNI_IFNAME: interface name "averyveryverylongname" has 21 characters/],
    [{ CNI_ARGS: 'IP' }, /CNI_ARGS: "IP" is not KEY=VALUE/],
  ])('refuses %o with code 4 naming the variable', (override, msg) => {
    const r = codeOf(() => parseEnv({ ...ENV, ...override }));
    expect(r.code).toBe(4);
    expect(r.msg).toMatch(msg);
  });

  it('DEL needs no netns; VERSION, STATUS and GC need nothing', () => {
    expect(parseEnv({ ...ENV, CNI_COMMAND: 'DEL', CNI_NETNS: '' }).netns).toBeUndefined();
    for (const c of ['VERSION', 'STATUS', 'GC']) expect(parseEnv({ CNI_COMMAND: c }).command).toBe(c);
    // libcni's ValidateNetworkList sends VERSION with placeholders (Podman does on every command).
    expect(parseEnv({ CNI_COMMAND: 'VERSION', CNI_NETNS: 'dummy', CNI_CONTAINERID: 'dummy', CNI_IFNAME: 'dummy' }).command).toBe('VERSION');
  });

  it('splits CNI_ARGS on ; and the first =', () => {
    expect([...parseCniArgs('A=1;;B=x=y')]).toEqual([['A', '1'], ['B', 'x=y']]);
  });
});

describe('network configuration', () => {
  it('carries the options of tnet create, tnet fields and runtime capabilities', () => {
    const c = conf({ mtu: 1400, internal: true, ipv6: true, options: { 'bridge.name': 'br-web' }, stateDir: '/tmp/s', hostNetns: 'lab',
      runtimeConfig: { ips: ['10.88.0.7/24'], mac: '02:AA:bb:cc:dd:ee', portMappings: [] } });
    expect(c.network).toEqual({ name: 'web', driver: 'bridge', ipv4: { subnet: '10.88.0.0/24' }, ipv6: {}, internal: true, mtu: 1400, options: { bridgeName: 'br-web' } });
    expect(c).toMatchObject({ stateDir: '/tmp/s', hostNetns: 'lab', runtime: { ips: ['10.88.0.7'], mac: '02:aa:bb:cc:dd:ee' } });
  });

  it.each([
    ['', 6, /stdin: the network configuration is empty/],
    ['{"cniVersion": "1.0.0",', 6, /stdin: malformed JSON/],
    ['[1]', 6, /stdin: expected a JSON object, got a list/],
  ])('refuses stdin %j with code %i', (stdin, code, msg) => {
    const r = codeOf(() => parseNetConf(decodeStdin(stdin)));
    expect(r).toMatchObject({ code });
    expect(r.msg).toMatch(msg);
  });

  it.each([
    [{ cniVersion: undefined }, 7, /cniVersion: is required/],
    [{ cniVersion: '0.2.0' }, 1, /cniVersion: "0.2.0" is not supported; supported versions: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0/],
    [{ cniVersion: 1 }, 7, /cniVersion: expected a string/],
    [{ type: 'bridge' }, 7, /type: "bridge" is not this plugin; expected "tnet"/],
    [{ name: undefined }, 7, /name: is required/],
    [{ subnet: '10.0.0.300/24' }, 7, /subnet.*10\.0\.0\.300\/24/],
    [{ mtu: 'big' }, 7, /mtu: string "big" is not allowed/],
    [{ ipam: { type: 'host-local' } }, 2, /ipam: unsupported field \(value \{"type":"host-local"\}\): tnet allocates/],
    [{ bridge: 'cni0' }, 2, /bridge: unsupported field \(value "cni0"\)/],
    [{ stateDir: 'rel' }, 7, /stateDir: "rel" is not an absolute path/],
    [{ runtimeConfig: { ips: ['10.88.0.x'] } }, 7, /runtimeConfig\.ips\[0\]/],
    [{ runtimeConfig: { mac: 'ff:ff:ff:ff:ff:ff' } }, 7, /runtimeConfig\.mac: .*multicast/],
    [{ runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 80 }] } }, 7, /runtimeConfig\.portMappings\[0\]\.hostPort/],
    [{ 'cni.dev/valid-attachments': [{ containerID: 1 }] }, 7, /cni\.dev\/valid-attachments\[0\]/],
    [{ prevResult: { ips: [{ address: 5 }] } }, 6, /prevResult\.ips\[0\]\.address/],
  ])('refuses %o with code %i naming the field', (extra, code, msg) => {
    const r = codeOf(() => conf(extra));
    expect(r.code).toBe(code);
    expect(r.msg).toMatch(msg);
  });

  it('compares versions numerically', () => {
    expect(compareVersions('0.10.0', '0.4.0')).toBeGreaterThan(0);
    expect(compareVersions('1.1.0', '1.1.0')).toBe(0);
  });
});

describe('attach requests', () => {
  const req = (env: Record<string, string>, extra: Record<string, unknown> = {}) => attachRequestOf(parseEnv({ ...ENV, ...env }), conf(extra));

  it('takes addresses from runtimeConfig.ips and CNI_ARGS IP, naming where each came from', () => {
    expect(req({ CNI_ARGS: 'IP=10.88.0.5' }).ipv4).toEqual({ address: '10.88.0.5', field: 'CNI_ARGS IP' });
    expect(req({}, { runtimeConfig: { ips: ['fd00::5/64', '10.88.0.6/24'] } })).toMatchObject({
      ipv4: { address: '10.88.0.6', field: 'runtimeConfig.ips[1]' },
      ipv6: { address: 'fd00::5', field: 'runtimeConfig.ips[0]' },
    });
  });

  it('takes the container name from K8S_POD_NAME when it is a DNS name, and aliases from runtimeConfig.aliases', () => {
    expect(req({ CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=web1' }, { runtimeConfig: { aliases: { web: ['front', 'www'], other: ['x'] } } })).toMatchObject({ name: 'web1', aliases: ['front', 'www'] });
    expect(req({ CNI_ARGS: 'K8S_POD_NAME=bad-' }).name).toBeUndefined();
    expect(req({}, { runtimeConfig: { aliases: { other: ['x'] } } }).aliases).toEqual([]);
    expect(codeOf(() => req({}, { runtimeConfig: { aliases: { web: ['no good'] } } }))).toMatchObject({ code: 7, msg: expect.stringMatching(/runtimeConfig\.aliases\.web\[0\]: alias "no good" is not a DNS name/) });
    expect(codeOf(() => req({}, { runtimeConfig: { aliases: ['x'] } })).msg).toMatch(/runtimeConfig\.aliases: expected a mapping/);
  });

  it('refuses unknown CNI_ARGS unless IgnoreUnknown, two addresses of a family, and a bad IP', () => {
    expect(codeOf(() => req({ CNI_ARGS: 'K8S_POD=x' }))).toMatchObject({ code: 2, msg: expect.stringMatching(/CNI_ARGS: unknown argument K8S_POD=x/) });
    expect(req({ CNI_ARGS: 'IgnoreUnknown=true;K8S_POD_NAME=x' }).ipv4).toBeUndefined();
    expect(codeOf(() => req({ CNI_ARGS: 'IP=10.88.0.5' }, { runtimeConfig: { ips: ['10.88.0.6'] } })).code).toBe(7);
    expect(codeOf(() => req({ CNI_ARGS: 'IP=10.88.0' })).msg).toMatch(/CNI_ARGS IP/);
  });
});

const NETWORK: Network = {
  id: 'a'.repeat(64), name: 'web', driver: 'bridge', internal: false, mtu: 1500, options: {}, labels: {}, created: '',
  ipv4: { subnet: '10.88.0.0/24', gateway: '10.88.0.1' }, ipv6: { subnet: 'fd00:88::/64', gateway: 'fd00:88::1' },
};
const ENDPOINT: Endpoint = {
  id: 'b'.repeat(64), network: 'web', netns: '/run/netns/x', ifname: 'eth0', ipv4: '10.88.0.2', ipv6: 'fd00:88::2',
  mac: '02:00:00:00:00:01', aliases: [], routeMetric: 100, owner: { kind: 'cni', containerId: 'c0ffee' },
};

describe('results', () => {
  const ours = endpointResult(NETWORK, ENDPOINT);

  it('lists bridge, host veth and the container side, with addresses and default routes', () => {
    expect(ours.interfaces).toEqual([{ name: 'tnbr-aaaaaaaaaa' }, { name: 'tnvbbbbbbbbbbbb' }, { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/x' }]);
    expect(ours.ips).toEqual([
      { address: '10.88.0.2/24', gateway: '10.88.0.1', interface: 2 },
      { address: 'fd00:88::2/64', gateway: 'fd00:88::1', interface: 2 },
    ]);
    expect(ours.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.88.0.1' }, { dst: '::/0', gw: 'fd00:88::1' }]);
    expect(endpointResult({ ...NETWORK, internal: true }, ENDPOINT).routes).toEqual([]);
  });

  it('names the gateways as nameservers when tnet\'s DNS serves the network, keeping the rest of the netconf\'s dns', () => {
    expect(dnsFor(NETWORK, { search: ['lan'] })).toEqual({ search: ['lan'], nameservers: ['10.88.0.1', 'fd00:88::1'] });
    expect(dnsFor({ ...NETWORK, dnsEnabled: false }, { nameservers: ['192.0.2.53'] })).toEqual({ nameservers: ['192.0.2.53'] });
  });

  it.each(['0.3.0', '0.3.1', '0.4.0'] as const)('tags IPs with their family for %s', (v) => {
    const out = encodeResult(ours, v);
    expect(out['cniVersion']).toBe(v);
    expect(out['ips']).toEqual([expect.objectContaining({ version: '4' }), expect.objectContaining({ version: '6' })]);
  });

  it.each(['1.0.0', '1.1.0'] as const)('has no IP version tags for %s', (v) => {
    expect(JSON.stringify(encodeResult(ours, v))).not.toMatch(/"version"/);
  });

  it('chains: a prevResult of an older version comes in, ours is appended with shifted indexes', () => {
    const prev = parsePrevResult({ cniVersion: '0.4.0', interfaces: [{ name: 'lo0' }], ips: [{ version: '4', address: '192.0.2.1/32', interface: 0 }] });
    const merged = mergeResults(prev, ours);
    expect(merged.interfaces).toHaveLength(4);
    expect(merged.ips.map((ip) => ip.interface)).toEqual([0, 3, 3]);
    expect(JSON.stringify(merged)).not.toMatch(/"version"/);
  });
});

describe('errors and network fit', () => {
  it('encodes CniErrors and TnetErrors as the spec error object', () => {
    expect(cniErrorBody(new CniError(4, 'CNI_NETNS: gone'), '1.0.0')).toEqual({ cniVersion: '1.0.0', code: 4, msg: 'CNI_NETNS: gone' });
    expect(cniErrorBody(new TnetError('busy', 'lock held'), '1.1.0')).toMatchObject({ code: 11 });
    expect(cniErrorBody(new TnetError('invalidInput', 'x'), '1.1.0')).toMatchObject({ code: 7 });
    expect(cniErrorBody(new Error('boom'), '1.1.0')).toMatchObject({ code: 999, msg: expect.stringMatching(/boom/) });
  });

  it('compares only the settings a config gives with the existing network', () => {
    expect(networkMismatch({ name: 'web', driver: 'bridge' }, NETWORK)).toEqual([]);
    expect(networkMismatch({ name: 'web', driver: 'bridge', ipv4: { subnet: '10.89.0.0/24' }, mtu: 1400 }, NETWORK)).toEqual([
      'subnet (asked 10.89.0.0/24, network 10.88.0.0/24)',
      'mtu (asked 1400, network 1500)',
    ]);
  });
});

describe('one plugin call (runCni), up to the point where state would be opened', () => {
  it('VERSION answers with the requested version and every supported one, whatever else is set', async () => {
    const out = await runCni({ CNI_COMMAND: 'VERSION', CNI_NETNS: 'dummy' }, '{"cniVersion":"0.4.0"}');
    expect(out).toEqual({ exitCode: 0, stdout: JSON.stringify({ cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] }) });
    expect(JSON.parse((await runCni({ CNI_COMMAND: 'VERSION' }, '')).stdout)).toMatchObject({ cniVersion: '1.1.0' });
  });

  it('errors go to stdout as the spec object with a non-zero exit', async () => {
    const out = await runCni({ CNI_COMMAND: 'ADD' }, JSON.stringify(CONF));
    expect(out.exitCode).toBe(1);
    expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '1.0.0', code: 4, msg: 'CNI_CONTAINERID: is required for ADD' });
  });

  it.each(['STATUS', 'GC'])('%s needs a 1.1.0 config (code 1)', async (command) => {
    const out = await runCni({ CNI_COMMAND: command }, JSON.stringify(CONF));
    expect(JSON.parse(out.stdout)).toMatchObject({ code: 1, msg: expect.stringMatching(new RegExp(`cniVersion: ${command} needs 1\\.1\\.0`)) });
  });
});
