/**
 * Overlay bad input on one lab host, in-process: unreachable and malformed store addresses (and
 * the local store still working afterwards), creating or connecting before joining, joining with
 * a local store, twice, or with an address the host does not have, and VNI/MTU/subnet refusals
 * (IPv6 included: an overlay may be dual-stack).
 * The etcd here is a single member on loopback (reached from the test process's namespace).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_UPLINK_V4, HOST_UPLINK_V6, OUTSIDE_V6, createLabHost, type LabHost } from '../helpers/lab-host.js';
import { sourceSeenBy } from '../helpers/peer-address.js';
import { freePort, startEtcd, type TestEtcd } from '../helpers/etcd.js';
import { pings } from '../helpers/sh.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

let lab: LabHost;
let etcd: TestEtcd;
let store: string;
beforeAll(async () => {
  lab = createLabHost(`${TT}ove`);
  lab.container('c1');
  lab.container('c2');
  etcd = await startEtcd();
  store = `etcd://${etcd.endpoints[0]?.replace('http://', '')}/${TT}ove-${process.pid}`;
}, 30_000);
afterAll(async () => {
  lab?.destroy();
  await etcd?.stop();
});

const fails = async (pattern: RegExp, code: number, ...args: string[]): Promise<void> => {
  const before = lab.tnetLinks();
  const r = await lab.tnet(...args);
  expect(r.code, `tnet ${args.join(' ')} should fail: ${r.out}`).toBe(code);
  expect(r.err).toMatch(pattern);
  expect(lab.tnetLinks()).toEqual(before);
};

describe('store addresses', () => {
  it('an unreachable etcd fails clearly, creates nothing, and local networks keep working', async () => {
    await lab.ok('create', '--subnet', '10.80.0.0/24', 'local');
    const port = await freePort();
    const started = Date.now();
    await fails(/cannot reach etcd at http:\/\/127\.0\.0\.1:\d+/, 6, '--store', `etcd://127.0.0.1:${port}`, 'create', '--driver', 'overlay', 'ov');
    expect(Date.now() - started).toBeLessThan(5_000);
    await fails(/store address "etcd:\/\/bad host" is not valid/, 2, '--store', 'etcd://bad host', 'ls');
    await lab.ok('connect', 'local', '--netns', `${TT}ove-c1`);
    expect(JSON.parse(await lab.ok('ls', '--json')).map((n: { name: string }) => n.name)).toEqual(['local']);
    await lab.ok('rm', '--force', 'local');
  });
});

describe('joining and creating overlays', () => {
  it('refuses overlays before join, and join with a local store', async () => {
    await fails(/needs this host to be part of a cluster first: run 'tnet host join --vtep/, 2, 'create', '--driver', 'overlay', 'ov');
    await fails(/host join needs a shared store/, 2, 'host', 'join', '--vtep', HOST_UPLINK_V4, '--name', 'h1');
  });

  it('refuses a VTEP address the host does not have, then joins, then refuses joining twice', async () => {
    await fails(/--vtep 192\.0\.2\.9 is not an address of this host \(its IPv4 addresses: 203\.0\.113\.1\)/, 2, '--store', store, 'host', 'join', '--vtep', '192.0.2.9', '--name', 'h1');
    expect(await lab.ok('--store', store, 'host', 'join', '--vtep', HOST_UPLINK_V4, '--name', 'h1')).toMatch(/joined as h1/);
    await fails(/this host has already joined as h1/, 3, '--store', store, 'host', 'join', '--vtep', HOST_UPLINK_V4, '--name', 'h1');
    expect(await lab.ok('--store', store, 'host', 'ls')).toMatch(/h1 \*\s+203\.0\.113\.1\s+down/);
  });

  it('derives the MTU from the underlay, refuses bad VNIs, MTUs and subnets, connects dual-stack and masquerades IPv6 egress', async () => {
    const s = ['--store', store];
    await fails(/vni: number 0 is not allowed; expected an integer from 1 to 16777215/, 2, ...s, 'create', '--driver', 'overlay', '--vni', '0', 'x');
    await fails(/driver "bridge" takes no vni/, 2, ...s, 'create', '--vni', '5', 'x');
    await fails(/MTU 1451 is too large .* at most 1450/, 2, ...s, 'create', '--driver', 'overlay', '--mtu', '1451', 'x');
    await fails(/1279 is too small for IPv6/, 2, ...s, 'create', '--driver', 'overlay', '--ipv6', '--mtu', '1279', 'x');
    const ov = JSON.parse(await lab.ok(...s, 'create', '--driver', 'overlay', '--subnet', '10.81.0.0/24', '--ipv6', '--subnet', 'fd00:81::/64', '--vni', '300', 'ov', '--json'));
    expect(ov).toMatchObject({ driver: 'overlay', mtu: 1450, overlay: { vni: 300 }, ipv6: { subnet: 'fd00:81::/64', gateway: 'fd00:81::1' } });
    await fails(/VNI 300 is already used by overlay network "ov"/, 5, ...s, 'create', '--driver', 'overlay', '--vni', '300', 'ov2');
    await fails(/overlaps network "ov"/, 5, ...s, 'create', '--driver', 'overlay', '--subnet', '10.81.0.0/25', 'ov2');
    await fails(/overlaps network "ov"/, 5, ...s, 'create', '--driver', 'overlay', '--ipv6', '--subnet', 'fd00:81::/56', 'ov2');
    await fails(/overlaps 203\.0\.113\.0\/24, which this host already routes/, 5, ...s, 'create', '--driver', 'overlay', '--subnet', '203.0.113.0/25', 'ov2');
    const e1 = JSON.parse(await lab.ok(...s, 'connect', 'ov', '--netns', `${TT}ove-c1`, '--json'));
    const e2 = JSON.parse(await lab.ok(...s, 'connect', 'ov', '--netns', `${TT}ove-c2`, '--json'));
    expect([e1.host, e2.host, e1.ipv4, e2.ipv4, e1.ipv6, e2.ipv6]).toEqual(['h1', 'h1', '10.81.0.2', '10.81.0.3', 'fd00:81::2', 'fd00:81::3']);
    expect(lab.tnetLinks().some((l) => l.startsWith('tnbr-'))).toBe(true);
    expect(pings(`${TT}ove-c1`, '10.81.0.3')).toBe(true);
    expect(pings(`${TT}ove-c1`, 'fd00:81::3')).toBe(true);
    // Egress over IPv6 leaves through this host's address, as from a dual-stack bridge network.
    expect(pings(`${TT}ove-c1`, OUTSIDE_V6)).toBe(true);
    expect(await sourceSeenBy(lab.outside, OUTSIDE_V6, 7003, `${TT}ove-c1`)).toBe(HOST_UPLINK_V6);
    await lab.ok(...s, 'rm', '--force', 'ov');
    await lab.ok(...s, 'host', 'leave');
    expect(lab.tnetLinks()).toEqual([]);
  });
});
