/**
 * `tnet doctor` on a host namespace made to have each finding in turn: a clean host first, then
 * one fault at a time (each removed again), through the real CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlServer, type ControlServer } from '../../lib/daemon/control.js';
import { repairRole } from '../../lib/daemon/roles/repair.js';
import { gatherFacts } from '../../lib/doctor/facts.js';
import { diagnose } from '../../lib/doctor/checks.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/etcd.js';
import { HOST_UPLINK_V4, OUTSIDE_V4, createLabHost, type LabHost } from '../helpers/lab-host.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { inNetns, sh } from '../helpers/sh.js';
import { TEST_STATE_PREFIX } from '../helpers/state-dir.js';

const PREFIX = `${TT}doc`;
const UPLINK = `${PREFIX.slice(0, 8)}up`;
let lab: LabHost;
let daemon: TestDaemon | undefined;
let control: ControlServer | undefined;

interface Found { check: string; message: string; fix: string }
const doctor = async (...extra: string[]): Promise<{ code: number; findings: Found[] }> => {
  const r = await lab.tnet('doctor', '--json', ...extra);
  return { code: r.code, findings: (JSON.parse(r.out) as { findings: Found[] }).findings };
};
const checks = async (): Promise<string[]> => (await doctor()).findings.map((f) => f.check);
const nft = (...args: string[]): string => inNetns(lab.ns, 'nft', ...args);

/** A daemon that answers on the control socket (drift repair only). */
const startDaemon = async (): Promise<void> => {
  daemon = await startTestDaemon(lab, [repairRole]);
  const d = daemon;
  control = await startControlServer(lab.stateDir, () => d.daemon.status());
  await d.idle();
};
const stopDaemon = async (): Promise<void> => {
  await control?.close();
  await daemon?.stop();
  control = daemon = undefined;
};

beforeAll(async () => {
  lab = createLabHost(PREFIX);
  await lab.ok('create', '--subnet', '10.95.0.0/24', 'web');
  await lab.ok('connect', 'web', '--netns', lab.container('c1'), '-p', '8080:80');
  await startDaemon();
}, 30_000);

afterAll(async () => {
  await stopDaemon();
  lab?.destroy();
});

describe('tnet doctor', () => {
  it('finds nothing on a healthy host', async () => {
    const r = await lab.tnet('doctor');
    expect(r.out.trim(), r.out).toBe('no problems found');
    expect(r.code).toBe(0);
  });

  it('finds a forward policy drop in another table, and with br_netfilter on, the same-bridge breakage', async () => {
    nft('add', 'table', 'ip', 'filter');
    nft('add', 'chain', 'ip', 'filter', 'FORWARD', '{ type filter hook forward priority 0; policy drop; }');
    try {
      const r = await doctor();
      expect(r.code).toBe(1);
      expect(r.findings.map((f) => f.check)).toEqual(['forward-policy', 'br-netfilter']);
      expect(r.findings[0]?.message).toContain('table ip filter chain FORWARD has policy drop');
      inNetns(lab.ns, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0', 'net.bridge.bridge-nf-call-ip6tables=0');
      expect(await checks()).toEqual(['forward-policy']);
    } finally {
      inNetns(lab.ns, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1', 'net.bridge.bridge-nf-call-ip6tables=1');
      nft('delete', 'table', 'ip', 'filter');
    }
  });

  it('finds a host route overlapping a network (a VPN)', async () => {
    sh('ip', '-n', lab.ns, 'route', 'add', '10.95.0.0/16', 'via', OUTSIDE_V4);
    try {
      const r = await doctor();
      expect(r.findings).toEqual([expect.objectContaining({ check: 'route-overlap', message: expect.stringContaining(`route 10.95.0.0/16 via ${UPLINK} overlaps network web`) })]);
    } finally {
      sh('ip', '-n', lab.ns, 'route', 'del', '10.95.0.0/16');
    }
  });

  it('finds objects of ours no record explains', async () => {
    sh('ip', '-n', lab.ns, 'link', 'add', 'tnv0123456789ab', 'type', 'veth', 'peer', 'name', 'tdocpeer');
    sh('ip', '-n', lab.ns, 'link', 'set', 'tnv0123456789ab', 'alias', 'tnet:0123456789ab:0123456789ab');
    nft('add', 'element', 'inet', 'tnet', 'fwd4_any_port', '{ udp . 5353 comment "tnet:0123456789ab:0123456789ab" : 53 }');
    try {
      await stopDaemon(); // it would remove both
      const r = await doctor();
      expect(r.findings.map((f) => f.message)).toEqual([
        expect.stringContaining('no tnet daemon serves'),
        'link tnv0123456789ab (tnet:0123456789ab:0123456789ab) is tnet\'s, but no record explains it',
        expect.stringContaining('port-forward element fwd4_any_port udp . 5353 (tnet:0123456789ab:0123456789ab) belongs to no recorded endpoint'),
      ]);
    } finally {
      sh('ip', '-n', lab.ns, 'link', 'del', 'tnv0123456789ab');
      nft('delete', 'element', 'inet', 'tnet', 'fwd4_any_port', '{ udp . 5353 }');
    }
  });

  it('finds forwarding off and an endpoint whose namespace is gone (with no daemon to fix either)', async () => {
    const gone = lab.container('c2');
    await lab.ok('connect', 'web', '--netns', gone);
    sh('ip', 'netns', 'del', gone);
    inNetns(lab.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=0');
    try {
      const r = await doctor();
      expect(r.findings.map((f) => f.check)).toEqual(['daemon', 'forwarding', 'namespace-gone']);
      expect(r.findings[2]?.fix).toBe(`tnet disconnect web --netns /run/netns/${gone}`);
    } finally {
      inNetns(lab.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
      await lab.ok('disconnect', 'web', '--netns', gone);
    }
    await startDaemon();
    expect(await checks()).toEqual([]);
  });

  it('finds an overlay whose MTU is above what the underlay carries', async () => {
    const spec = join(lab.stateDir, 'static.yaml');
    writeFileSync(spec, [
      `host: { name: h1, vtep: ${HOST_UPLINK_V4} }`,
      'peers: [{ name: h2, vtep: 203.0.113.9 }]',
      'networks: [{ name: ov, driver: overlay, vni: 4400, subnet: 10.44.0.0/24 }]',
    ].join('\n'));
    await lab.ok('apply', '-f', spec);
    sh('ip', '-n', lab.ns, 'link', 'set', UPLINK, 'mtu', '1400');
    try {
      const r = await doctor();
      expect(r.findings).toEqual([expect.objectContaining({ check: 'overlay-mtu', message: expect.stringContaining('overlay ov has MTU 1450, but the underlay carries 1400 (at most 1350 inside VXLAN)') })]);
    } finally {
      sh('ip', '-n', lab.ns, 'link', 'set', UPLINK, 'mtu', '1500');
      await lab.ok('rm', 'ov');
    }
  });

  it('finds a kernel module that is not there (module lists of a kernel without vxlan)', async () => {
    const root = mkdtempSync(join(tmpdir(), `${TEST_STATE_PREFIX}modules-`));
    try {
      const ctx = daemon?.app.ctx;
      if (ctx === undefined) throw new Error('no daemon');
      const found = diagnose(await gatherFacts({ kernel: ctx.kernel, stateDir: lab.stateDir, ctx, modulesRoot: root }));
      expect(found.map((f) => f.message)).toEqual([expect.stringContaining('vxlan is not available in this kernel')]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('says when the store cannot be reached, and still checks the kernel', async () => {
    const r = await doctor('--store', `etcd://127.0.0.1:${await freePort()}`);
    expect(r.code).toBe(1);
    expect(r.findings[0]).toMatchObject({ check: 'store', message: expect.stringContaining('the store cannot be read') });
  });
});
