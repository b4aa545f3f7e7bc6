/** Published ports end to end: real traffic through the nft maps, in lab namespaces. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askEcho, startEcho, type EchoServer } from '../helpers/echo.js';
import { createLabHost, HOST_UPLINK_V4, HOST_UPLINK_V6, OUTSIDE_V4, OUTSIDE_V6, type LabHost } from '../helpers/lab-host.js';
import { sh, tryRun } from '../helpers/sh.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

/** IPv6 link-local addresses stay tentative for a moment (DAD); neighbour discovery waits for them. */
const waitForDad = async (...namespaces: string[]): Promise<void> => {
  for (let i = 0; i < 50; i++) {
    if (namespaces.every((ns) => tryRun('ip', '-n', ns, '-6', 'addr', 'show', 'tentative').stdout.trim() === '')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
};

let lab: LabHost;
const servers: EchoServer[] = [];
let c1: string;
let c2: string;
const GW4 = '10.70.0.1';

beforeAll(async () => {
  lab = createLabHost(`${TT}pp`);
  c1 = lab.container('c1');
  c2 = lab.container('c2');
  servers.push(await startEcho(`${TT}pp-c1`, 80));
  await lab.ok('create', '--subnet', '10.70.0.0/24', '--ipv6', '--subnet', 'fd00:70::/64', 'web');
});

const ready = (): Promise<void> => waitForDad(lab.ns, lab.outside, `${TT}pp-c1`, `${TT}pp-c2`);
afterAll(() => {
  for (const s of servers) s.stop();
  lab?.destroy();
});

const elements = (map: string): string => sh('ip', 'netns', 'exec', lab.ns, 'nft', 'list', 'map', 'inet', 'tnet', map);

describe('published ports', () => {
  it('forwards TCP and UDP from another host, keeping the client address, IPv4 and IPv6', async () => {
    await lab.ok('connect', 'web', '--netns', c1, '-p', '8080:80', '-p', '8080:80/udp');
    await lab.ok('connect', 'web', '--netns', c2);
    await ready();
    for (const proto of ['tcp', 'udp'] as const) {
      expect(askEcho(lab.outside, proto, HOST_UPLINK_V4, 8080)).toBe(OUTSIDE_V4);
      expect(askEcho(lab.outside, proto, HOST_UPLINK_V6, 8080)).toBe(OUTSIDE_V6);
    }
    expect(elements('fwd4_any_addr')).toMatch(/tcp \. 8080 comment "tnet:[0-9a-f]{12}:[0-9a-f]{12}" : 10\.70\.0\.2/);
  });

  it('forwards from the host itself, via 127.0.0.1 and via its own address', () => {
    for (const proto of ['tcp', 'udp'] as const) {
      expect(askEcho(lab.ns, proto, '127.0.0.1', 8080)).toBe(GW4);
      expect(askEcho(lab.ns, proto, HOST_UPLINK_V4, 8080)).toBeDefined();
    }
  });

  it('forwards from another container of the network and from the container itself (hairpin)', () => {
    for (const proto of ['tcp', 'udp'] as const) {
      expect(askEcho(`${TT}pp-c2`, proto, HOST_UPLINK_V4, 8080)).toBe(GW4);
      expect(askEcho(`${TT}pp-c1`, proto, HOST_UPLINK_V4, 8080)).toBe(GW4);
      expect(askEcho(`${TT}pp-c2`, proto, HOST_UPLINK_V6, 8080)).toBe('fd00:70::1');
    }
  });

  it('binds a mapping to one host address only', async () => {
    await lab.ok('port', 'publish', 'web', '--netns', c1, '-p', '127.0.0.1:9090:80', '-p', `${HOST_UPLINK_V4}:9191:80/udp`);
    expect(askEcho(lab.ns, 'tcp', '127.0.0.1', 9090)).toBe(GW4);
    expect(askEcho(lab.ns, 'tcp', HOST_UPLINK_V4, 9090)).toBeUndefined();
    expect(askEcho(lab.outside, 'tcp', HOST_UPLINK_V4, 9090)).toBeUndefined();
    expect(askEcho(lab.outside, 'udp', HOST_UPLINK_V4, 9191)).toBe(OUTSIDE_V4);
    const ls = await lab.ok('port', 'ls', 'web', '--netns', c1);
    expect(ls).toMatch(/127\.0\.0\.1\s+9090\s+10\.70\.0\.2:80\s+tcp/);
  });

  it('refuses a host port another endpoint publishes (naming it), an address the host lacks, and bad syntax; nothing is applied', async () => {
    const c3 = lab.container('c3');
    const taken = await lab.tnet('connect', 'web', '--netns', c3, '-p', '8080:81');
    expect(taken.code).toBe(5);
    expect(taken.err).toMatch(new RegExp(`tcp \\*:8080 \\(IPv4\\) is already published by endpoint /run/netns/${TT}pp-c1 on network web`));
    const missing = await lab.tnet('connect', 'web', '--netns', c3, '-p', '192.0.2.99:8081:80');
    expect(missing.err).toMatch(/the host has no address 192\.0\.2\.99/);
    for (const [spec, why] of [['0:80', /host port 0 is out of range; expected 1-65535/], ['70000:80', /out of range/], ['1000-1003:80-82', /different lengths/], ['80:80/icmp', /protocol "icmp" is not allowed; expected tcp, udp, sctp/]] as const) {
      const r = await lab.tnet('connect', 'web', '--netns', c3, '-p', spec);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(why);
    }
    const busy = await lab.tnet('port', 'publish', 'web', '--netns', c2, '-p', '127.0.0.1:9090:80');
    expect(busy.err).toMatch(new RegExp(`already published by endpoint /run/netns/${TT}pp-c1`));
    expect(JSON.parse(await lab.ok('inspect', 'web')) [0].endpoints).toHaveLength(2);
    expect(elements('fwd4_any_addr')).not.toMatch(/: 10\.70\.0\.4/);
  });

  it('unpublishes one mapping without touching the others', async () => {
    await lab.ok('port', 'unpublish', 'web', '--netns', c1, '-p', '127.0.0.1:9090:80');
    expect(askEcho(lab.ns, 'tcp', '127.0.0.1', 9090)).toBeUndefined();
    expect(askEcho(lab.outside, 'tcp', HOST_UPLINK_V4, 8080)).toBe(OUTSIDE_V4);
    const inspect = JSON.parse(await lab.ok('inspect', 'web')) as Array<{ endpoints: Array<{ ports?: unknown[] }> }>;
    expect(inspect[0]?.endpoints.flatMap((e) => e.ports ?? [])).toHaveLength(3);
  });

  it('brings back a deleted element and a flushed table on the next apply', async () => {
    const spec = join(lab.stateDir, 'empty.yaml');
    writeFileSync(spec, 'networks: []\n');
    sh('ip', 'netns', 'exec', lab.ns, 'nft', 'delete', 'element', 'inet', 'tnet', 'fwd4_any_addr', '{ tcp . 8080 }');
    expect(askEcho(lab.outside, 'tcp', HOST_UPLINK_V4, 8080)).toBeUndefined();
    expect(await lab.ok('apply', '-f', spec)).toMatch(/repair: update port-forward elements \(\+1 -0\)/);
    expect(askEcho(lab.outside, 'tcp', HOST_UPLINK_V4, 8080)).toBe(OUTSIDE_V4);
    sh('ip', 'netns', 'exec', lab.ns, 'nft', 'flush', 'table', 'inet', 'tnet');
    expect(await lab.ok('apply', '-f', spec)).toMatch(/repair: write nft table inet tnet/);
    expect(askEcho(lab.outside, 'udp', HOST_UPLINK_V4, 9191)).toBe(OUTSIDE_V4);
    expect(await lab.ok('apply', '-f', spec)).toMatch(/No changes/);
  });

  it('publishes ports listed in a spec file and changes them in place', async () => {
    const spec = join(lab.stateDir, 'api.yaml');
    const c4 = lab.container('c4');
    servers.push(await startEcho(`${TT}pp-c4`, 80));
    writeFileSync(spec, `networks:\n  - name: api\n    subnet: 10.71.0.0/24\n    endpoints:\n      - netns: ${c4}\n        ports: ["7070:80"]\n`);
    await lab.ok('apply', '-f', spec);
    expect(askEcho(lab.outside, 'tcp', HOST_UPLINK_V4, 7070)).toBe(OUTSIDE_V4);
    writeFileSync(spec, `networks:\n  - name: api\n    subnet: 10.71.0.0/24\n    endpoints:\n      - netns: ${c4}\n        ports: ["7071:80/tcp"]\n`);
    expect(await lab.ok('apply', '-f', spec)).toMatch(/ports 7070:80\/tcp -> 7071:80\/tcp/);
    expect(askEcho(lab.outside, 'tcp', HOST_UPLINK_V4, 7071)).toBe(OUTSIDE_V4);
    expect(askEcho(lab.outside, 'tcp', HOST_UPLINK_V4, 7070)).toBeUndefined();
    writeFileSync(spec, 'networks: []\n');
    await lab.ok('apply', '-f', spec);
  });

  it('leaves nothing behind after disconnect', async () => {
    await lab.ok('disconnect', 'web', '--netns', c1);
    expect(askEcho(lab.outside, 'tcp', HOST_UPLINK_V4, 8080)).toBeUndefined();
    for (const map of ['fwd4_any_addr', 'fwd4_any_port', 'fwd6_any_addr', 'fwd4_addr', 'fwd4_port']) expect(elements(map)).not.toMatch(/elements/);
    await lab.ok('rm', '--force', 'web');
    expect(lab.nftTable()).toBeUndefined();
    expect(lab.tnetLinks()).toEqual([]);
  });
});
