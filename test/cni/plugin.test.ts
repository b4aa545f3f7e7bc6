/**
 * The plugin as runtimes run it: a separate process per call, env + stdin in, JSON out. State is
 * shared with the CLI, the lab host stands in for the machine's root namespace.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalStore } from '../../lib/store/local.js';
import { buildCniPlugin, execFile, type CniPlugin } from '../helpers/cni-plugin.js';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { inNetns, pings, sh } from '../helpers/sh.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

let lab: LabHost;
let plugin: CniPlugin;
beforeAll(() => {
  lab = createLabHost(`${TT}cnp`);
  plugin = buildCniPlugin();
});
afterAll(() => {
  lab?.destroy();
  plugin?.remove();
});

const conf = (extra: Record<string, unknown> = {}) => ({
  cniVersion: '1.1.0', name: 'pods', type: 'tnet', subnet: '10.73.0.0/24', stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}`, ...extra,
});
const envFor = (id: string, ns: string, ifname = 'eth0') => ({ CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: ifname, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=x' });

const ok = async (command: string, env: Record<string, string>, c: unknown): Promise<unknown> => {
  const r = await plugin.call(command, env, c);
  expect(r.code, `${command}: ${r.stdout}${r.stderr}`).toBe(0);
  return r.json;
};

/** Everything a failed call could leave behind (records, not the store's revision counters). */
const footprint = async (): Promise<string> => {
  const store = await openLocalStore(lab.stateDir);
  const records = (await store.list('')).map(({ key, value }) => [key, value]);
  await store.close();
  return JSON.stringify({ links: lab.tnetLinks(), nft: lab.nftTable(), records });
};

describe('ADD, CHECK, DEL through real plugin processes', () => {
  it('ADD creates the network, attaches, and the CLI sees it; CHECK passes; DEL frees everything', async () => {
    const [a, b] = [lab.container('a'), lab.container('b')];
    const ra = (await ok('ADD', envFor('ctr-a', a), conf())) as { ips: Array<{ address: string }>; interfaces: unknown[] };
    const rb = (await ok('ADD', envFor('ctr-b', b), conf())) as { ips: Array<{ address: string }> };
    expect(ra.ips[0]?.address).toBe('10.73.0.2/24');
    expect(rb.ips[0]?.address).toBe('10.73.0.3/24');
    expect(pings(a, '10.73.0.3')).toBe(true);
    const inspect = JSON.parse(await lab.ok('inspect', 'pods')) as Array<{ endpoints: Array<{ owner: unknown }> }>;
    expect(inspect[0]?.endpoints.map((e) => e.owner)).toEqual(
      expect.arrayContaining([{ kind: 'cni', containerId: 'ctr-a' }, { kind: 'cni', containerId: 'ctr-b' }]),
    );
    await ok('CHECK', envFor('ctr-a', a), conf({ prevResult: ra }));
    // Another network's drift is not this attachment's: CHECK still passes with its bridge gone.
    await lab.ok('create', '--subnet', '10.74.9.0/24', '-o', 'bridge.name=tt-other', 'other');
    sh('ip', '-n', lab.ns, 'link', 'del', 'tt-other');
    await ok('CHECK', envFor('ctr-a', a), conf({ prevResult: ra }));
    await lab.ok('rm', 'other');

    inNetns(a, 'ip', 'addr', 'flush', 'dev', 'eth0'); // drift: CHECK must say so
    const drift = await plugin.call('CHECK', envFor('ctr-a', a), conf({ prevResult: ra }));
    expect(drift.code).not.toBe(0);
    expect(drift.json).toMatchObject({ code: 100, msg: expect.stringMatching(/add address 10\.73\.0\.2\/24 to eth0/) });
    expect((await plugin.call('CHECK', envFor('ctr-x', a), conf())).json).toMatchObject({ code: 3 });

    await ok('DEL', envFor('ctr-a', a), conf({ prevResult: ra }));
    await ok('DEL', { ...envFor('ctr-b', b), CNI_NETNS: '' }, conf()); // runtime lost the netns: still frees
    await ok('DEL', envFor('ctr-b', b), conf()); // and again: idempotent
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnv'))).toEqual([]);
    expect(JSON.parse(await lab.ok('inspect', 'pods'))[0].endpoints).toEqual([]);
  });

  it('the CLI names runtime-attached containers by id or unique prefix: port ls, disconnect', async () => {
    const [c, d] = [lab.container('cid1'), lab.container('cid2')];
    await ok('ADD', envFor('5e1f00aa', c), conf({ runtimeConfig: { portMappings: [{ hostPort: 8089, containerPort: 80, protocol: 'tcp' }] } }));
    await ok('ADD', envFor('5e1f00bb', d), conf());
    try {
      const ambiguous = await lab.tnet('disconnect', 'pods', '--container', '5e1f');
      expect(ambiguous.code).toBe(2);
      expect(ambiguous.err).toContain('container 5e1f is ambiguous on network pods: it starts 5e1f00aa, 5e1f00bb');
      expect(await lab.ok('port', 'ls', 'pods', '--container', '5e1f00a')).toMatch(/8089\s+10\.73\.0\.\d+:80\s+tcp/);
      expect(await lab.ok('disconnect', 'pods', '--container', '5e1f00a')).toContain('disconnected');
      expect(inNetns(c, 'ip', '-o', 'link', 'show')).not.toMatch(/eth0/);
      expect((await lab.tnet('disconnect', 'pods', '--container', '5e1f00a')).err).toContain('no container 5e1f00a is attached to network pods');
      expect((await lab.tnet('disconnect', 'pods')).err).toContain('name the attachment: --netns');
    } finally {
      // The runtime's DELs, after the CLI's disconnect: still success; they also clean up after a failure.
      await ok('DEL', envFor('5e1f00aa', c), conf());
      await ok('DEL', envFor('5e1f00bb', d), conf());
    }
    expect(JSON.parse(await lab.ok('inspect', 'pods'))[0].endpoints).toEqual([]);
  });

  it('encodes results for every supported version; VERSION lists them all', async () => {
    const ns = lab.container('v');
    for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
      const r = (await ok('ADD', envFor('ctr-v', ns), conf({ cniVersion: v }))) as { cniVersion: string; ips: Array<Record<string, unknown>> };
      expect(r.cniVersion).toBe(v);
      expect('version' in (r.ips[0] ?? {})).toBe(v.startsWith('0.'));
      await ok('DEL', envFor('ctr-v', ns), conf({ cniVersion: v }));
    }
    expect(await ok('VERSION', {}, { cniVersion: '1.0.0' })).toEqual({ cniVersion: '1.0.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  it('takes the ips and mac capabilities and CNI_ARGS IP', async () => {
    const ns = lab.container('cap');
    const r = (await ok('ADD', envFor('ctr-cap', ns), conf({ runtimeConfig: { ips: ['10.73.0.77/24'], mac: '02:00:00:00:77:77' } }))) as {
      ips: Array<{ address: string }>;
    };
    expect(r.ips[0]?.address).toBe('10.73.0.77/24');
    expect(inNetns(ns, 'ip', 'link', 'show', 'eth0')).toMatch(/02:00:00:00:77:77/);
    await ok('DEL', envFor('ctr-cap', ns), conf());
    const r2 = (await ok('ADD', { ...envFor('ctr-cap', ns), CNI_ARGS: 'IgnoreUnknown=1;IP=10.73.0.78' }, conf())) as { ips: Array<{ address: string }> };
    expect(r2.ips[0]?.address).toBe('10.73.0.78/24');
    await ok('DEL', envFor('ctr-cap', ns), conf());
  });

  it('STATUS fails with code 50 when the pool is exhausted; GC frees only CNI attachments not listed', async () => {
    const tiny = (extra: Record<string, unknown> = {}) => conf({ name: 'tiny', subnet: '10.74.0.0/30', ...extra });
    const [x, y, z] = [lab.container('gx'), lab.container('gy'), lab.container('gz')];
    await ok('STATUS', {}, tiny());
    expect((await plugin.call('STATUS', {}, conf({ name: 'overlapping', subnet: '10.73.0.0/16' }))).json).toMatchObject({ code: 50, msg: expect.stringMatching(/overlaps network "pods"/) });
    await ok('ADD', envFor('ctr-gx', x), tiny()); // a /30 has one address besides the gateway
    expect((await plugin.call('STATUS', {}, tiny())).json).toMatchObject({ code: 50, msg: expect.stringMatching(/no free IPv4 address/) });
    await ok('GC', {}, tiny({ 'cni.dev/valid-attachments': [] }));
    await ok('STATUS', {}, tiny());
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnv'))).toEqual([]);

    await ok('ADD', envFor('ctr-gy', y), conf());
    await lab.ok('connect', 'pods', '--netns', z); // the CLI's own endpoint: never GC'd
    await ok('GC', {}, conf({ 'cni.dev/valid-attachments': [{ containerID: 'ctr-gy', ifname: 'eth0' }] }));
    expect(JSON.parse(await lab.ok('inspect', 'pods'))[0].endpoints).toHaveLength(2);
    await ok('GC', {}, conf({ 'cni.dev/valid-attachments': [] }));
    expect(JSON.parse(await lab.ok('inspect', 'pods'))[0].endpoints).toMatchObject([{ owner: { kind: 'cli' } }]);
    await lab.ok('disconnect', 'pods', '--netns', z);
    await lab.ok('rm', 'tiny');
  });

  it('chains: tnet first, then the reference tuning and bandwidth plugins, all in the host namespace', async () => {
    const ns = lab.container('ch');
    const env = { ...envFor('ctr-ch', ns), CNI_COMMAND: 'ADD', CNI_PATH: `${plugin.binDir}:/usr/lib/cni`, PATH: process.env['PATH'] ?? '' };
    const inHost = (bin: string, command: string, c: unknown) =>
      execFile('nsenter', [`--net=/run/netns/${lab.ns}`, bin], { ...env, CNI_COMMAND: command }, JSON.stringify(c));
    const { hostNetns: _, ...plain } = conf(); // the plugin's own namespace is the host: the default
    const list = [plain, { type: 'tuning', mtu: 1400 }, { type: 'bandwidth', capabilities: { bandwidth: true } }];
    const bins = [plugin.plugin, '/usr/lib/cni/tuning', '/usr/lib/cni/bandwidth'];
    let prev: unknown;
    for (const [i, p] of list.entries()) {
      const c = { ...p, name: 'pods', cniVersion: '1.0.0', ...(prev === undefined ? {} : { prevResult: prev }),
        ...(i === 2 ? { runtimeConfig: { bandwidth: { ingressRate: 1000000, ingressBurst: 100000, egressRate: 1000000, egressBurst: 100000 } } } : {}) };
      const r = await inHost(bins[i] ?? '', 'ADD', c);
      expect(r.code, `${p.type}: ${r.stdout}${r.stderr}`).toBe(0);
      prev = JSON.parse(r.stdout);
    }
    expect(inNetns(ns, 'ip', 'link', 'show', 'eth0')).toMatch(/mtu 1400/);
    expect(JSON.stringify(prev)).toMatch(/"name":"tnv/);
    for (const [i, p] of [...list.entries()].reverse()) {
      const r = await inHost(bins[i] ?? '', 'DEL', { ...p, name: 'pods', cniVersion: '1.0.0', prevResult: prev });
      expect(r.code, `${p.type} DEL: ${r.stdout}${r.stderr}`).toBe(0);
    }
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnv'))).toEqual([]);
  });
});

describe('tnet cni install and conflist', () => {
  it('conflist prints a config that attaches to the network with the CLI\'s state; install writes an executable wrapper', async () => {
    await lab.ok('create', '--subnet', '10.83.0.0/24', '--mtu', '1400', 'listed');
    const list = JSON.parse(await lab.ok('cni', 'conflist', 'listed')) as { cniVersion: string; name: string; plugins: Array<Record<string, unknown>> };
    expect(list).toMatchObject({ cniVersion: '1.0.0', name: 'listed', plugins: [{ type: 'tnet', subnet: '10.83.0.0/24', mtu: 1400, stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}` }] });
    const ns = lab.container('listed');
    const r = (await ok('ADD', envFor('ctr-l', ns), { ...list.plugins[0], name: list.name, cniVersion: list.cniVersion })) as { ips: Array<{ address: string }> };
    expect(r.ips[0]?.address).toBe('10.83.0.2/24');
    await ok('DEL', envFor('ctr-l', ns), { ...list.plugins[0], name: list.name, cniVersion: list.cniVersion });
    await lab.ok('rm', 'listed');
    expect((await lab.tnet('cni', 'conflist', 'nope')).err).toMatch(/network "nope" not found/);

    const dir = join(lab.stateDir, 'cni-bin');
    await lab.ok('cni', 'install', '--dir', dir, '--plugin', join(plugin.binDir, '..', 'bin', 'tnet-cni.js'));
    const v = await execFile(join(dir, 'tnet'), [], { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
    expect(JSON.parse(v.stdout)).toMatchObject({ cniVersion: '0.4.0' });
  });
});

describe('bad input: spec error JSON with the right code, a message naming the field, nothing left behind', () => {
  // The body is a function: conf() needs the lab, which exists only once beforeAll has run.
  const cases: Array<[string, Record<string, string>, () => unknown, number, RegExp]> = [
    ['malformed JSON', {}, () => '{"cniVersion": ', 6, /stdin: malformed JSON/],
    ['missing cniVersion', {}, () => ({ name: 'pods', type: 'tnet' }), 7, /cniVersion: is required/],
    ['unsupported cniVersion', {}, () => conf({ cniVersion: '0.2.0' }), 1, /cniVersion: "0\.2\.0" is not supported/],
    ['missing CNI_CONTAINERID', { CNI_CONTAINERID: '' }, () => conf(), 4, /CNI_CONTAINERID: is required/],
    ['missing CNI_COMMAND', { CNI_COMMAND: '' }, () => conf(), 4, /CNI_COMMAND: is required/],
    ['wrong type', {}, () => conf({ type: 'bridge' }), 7, /type: "bridge" is not this plugin/],
    ['invalid subnet', {}, () => conf({ name: 'bad', subnet: '10.75.0.0/33' }), 7, /subnet.*10\.75\.0\.0\/33/],
    ['nonexistent netns', { CNI_NETNS: `/run/netns/${TT}cnp-ghost` }, () => conf(), 4, new RegExp(`CNI_NETNS: /run/netns/${TT}cnp-ghost is not a network namespace`)],
    ['ifname too long', { CNI_IFNAME: 'averyveryverylongname' }, () => conf(), 4, /CNI_IFNAME: .*21 characters/],
    ['IP outside the subnet', { CNI_ARGS: 'IP=10.99.0.5' }, () => conf(), 7, /CNI_ARGS IP: "10\.99\.0\.5" is outside subnet 10\.73\.0\.0\/24/],
    ['IP taken', { CNI_ARGS: 'IP=10.73.0.2' }, () => conf(), 100, /CNI_ARGS IP: 10\.73\.0\.2 is already in use on network pods/],
    ['IP taken, on a network this ADD would create', { CNI_ARGS: 'IP=10.76.0.1' }, () => conf({ name: 'fresh', subnet: '10.76.0.0/24' }), 7, /CNI_ARGS IP: "10\.76\.0\.1" is the gateway/],
    ['unknown field', {}, () => conf({ bridge: 'cni0' }), 2, /bridge: unsupported field/],
    ['portMappings with port 0', {}, () => conf({ runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 80, protocol: 'tcp' }] } }), 7, /runtimeConfig\.portMappings\[0\]\.hostPort/],
    ['JSON nested too deeply', {}, () => `{"cniVersion":"1.0.0","name":"pods","type":"tnet","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 6, /nests 100001 levels deep; at most 64/],
    ['a container id of 5000 characters', { CNI_CONTAINERID: 'c'.repeat(5000) }, () => conf(), 4, /CNI_CONTAINERID: has 5000 characters; at most 256/],
    ['the host\'s own namespace', { CNI_NETNS: 'HOST' }, () => conf(), 4, /CNI_NETNS: .* is the host's own network namespace/],
    ['a FIFO as CNI_NETNS', { CNI_NETNS: 'FIFO' }, () => conf(), 4, /CNI_NETNS: .* is not a network namespace .*it is a FIFO/],
    ['a prevResult that is not a result', {}, () => conf({ prevResult: { ips: [{ address: 'garbage' }] } }), 6, /prevResult\.ips\[0\]\.address: "garbage" has no prefix length/],
    ['a prevResult with fields no result has', {}, () => conf({ prevResult: { junk: 1 } }), 6, /prevResult\.junk: is not a field of a CNI result/],
    ['a stateDir that is a file', {}, () => conf({ stateDir: '/etc/hostname' }), 7, /state directory \/etc\/hostname is not a directory/],
    ['an etcd store nobody answers on', {}, () => conf({ store: 'etcd://127.0.0.1:9' }), 11, /cannot reach etcd at http:\/\/127\.0\.0\.1:9/],
    ['a reserved label', {}, () => conf({ name: 'fresh', subnet: '10.76.0.0/24', labels: { 'tnet.applied-from': '/x' } }), 7, /labels\.tnet\.applied-from: label keys starting with "tnet\." are tnet's own/],
    ['a loopback subnet', {}, () => conf({ name: 'fresh', subnet: '127.0.0.0/8' }), 7, /subnet 127\.0\.0\.0\/8 overlaps 127\.0\.0\.0\/8, reserved for loopback/],
    ['portMappings with an unknown protocol', {}, () => conf({ runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'icmp' }] } }), 7, /runtimeConfig\.portMappings\[0\]\.protocol: "icmp"/],
  ];

  let fifo = '';
  beforeAll(async () => {
    await ok('ADD', envFor('ctr-holder', lab.container('holder')), conf()); // holds 10.73.0.2
    fifo = join(lab.stateDir, 'not-a-netns');
    sh('mkfifo', fifo);
  });

  it.each(cases)('%s', async (_what, envOverride, body, code, msg) => {
    const ns = lab.container('bad');
    const before = await footprint();
    // Paths that exist only once the lab does: the lab host's own namespace, a FIFO.
    const special: Record<string, () => string> = { HOST: () => `/run/netns/${lab.ns}`, FIFO: () => fifo };
    const netns = envOverride['CNI_NETNS'];
    const env = { ...envFor('ctr-bad', ns), ...envOverride, ...(netns !== undefined && special[netns] ? { CNI_NETNS: special[netns]() } : {}) };
    const r = await plugin.call(envOverride['CNI_COMMAND'] ?? 'ADD', env, body());
    expect(r.code).not.toBe(0);
    expect(r.json).toMatchObject({ code, msg: expect.stringMatching(msg) });
    expect(typeof (r.json as { cniVersion: unknown }).cniVersion).toBe('string');
    expect(await footprint()).toBe(before);
    expect(inNetns(ns, 'ip', '-o', 'link', 'show').trim().split('\n')).toHaveLength(1); // only lo
  });
});
