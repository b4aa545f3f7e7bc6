/** The bridge driver end to end, against the real kernel, inside a lab host namespace. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabHost, HOST_UPLINK_V4, HOST_UPLINK_V6, OUTSIDE_V4, OUTSIDE_V6, type LabHost } from '../helpers/lab-host.js';
import { sourceSeenBy } from '../helpers/peer-address.js';
import { inNetns, pings, tryRun } from '../helpers/sh.js';
import type { Endpoint } from '../../lib/model/types.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

let lab: LabHost;
beforeAll(() => {
  lab = createLabHost(`${TT}br`);
});
afterAll(() => lab?.destroy());

const connect = async (net: string, ns: string, ...extra: string[]): Promise<Endpoint> =>
  JSON.parse(await lab.ok('connect', net, '--netns', ns, '--json', ...extra)) as Endpoint;

describe('bridge networks', () => {
  it('lets two containers on one network ping each other, and reach the outside through masquerade', async () => {
    await lab.ok('create', '--driver', 'bridge', '--subnet', '10.50.0.0/24', 'front');
    const a = await connect('front', lab.container('a'));
    const b = await connect('front', lab.container('b'));
    expect(a.ipv4).toBe('10.50.0.2');
    expect(b.ipv4).toBe('10.50.0.3');
    expect(pings(`${TT}br-a`, b.ipv4!)).toBe(true);
    expect(pings(`${TT}br-a`, OUTSIDE_V4)).toBe(true);
    // Masquerade: the outside sees the host's uplink address, not the container's.
    expect(await sourceSeenBy(lab.outside, OUTSIDE_V4, 7001, `${TT}br-a`)).toBe(HOST_UPLINK_V4);
    expect(inNetns(`${TT}br-a`, 'ip', '-4', 'route', 'show', 'default')).toContain('via 10.50.0.1 dev eth0');
  });

  it('isolates networks from each other', async () => {
    await lab.ok('create', '--subnet', '10.51.0.0/24', 'back');
    const c = await connect('back', lab.container('c'));
    expect(pings(`${TT}br-c`, OUTSIDE_V4)).toBe(true); // its own way out works…
    expect(pings(`${TT}br-c`, '10.50.0.2')).toBe(false); // …but not into the other network
    expect(pings(`${TT}br-a`, c.ipv4!)).toBe(false);
  });

  it('gives an internal network no way out', async () => {
    await lab.ok('create', '--internal', '--subnet', '10.52.0.0/24', 'vault');
    await connect('vault', lab.container('v1'));
    const v2 = await connect('vault', lab.container('v2'));
    expect(pings(`${TT}br-v1`, v2.ipv4!)).toBe(true);
    expect(inNetns(`${TT}br-v1`, 'ip', '-4', 'route', 'show', 'default')).toBe('');
    expect(pings(`${TT}br-v1`, OUTSIDE_V4)).toBe(false);
    expect(pings(`${TT}br-v1`, HOST_UPLINK_V4)).toBe(false);
    expect(pings(`${TT}br-a`, v2.ipv4!)).toBe(false);
  });

  it('works dual-stack: IPv6 between containers and out through masquerade', async () => {
    await lab.ok('create', '--subnet', '10.53.0.0/24', '--ipv6', '--subnet', 'fd00:53::/64', 'dual');
    const d1 = await connect('dual', lab.container('d1'));
    const d2 = await connect('dual', lab.container('d2'));
    expect(d1.ipv6).toBe('fd00:53::2');
    expect(pings(`${TT}br-d1`, d2.ipv6!)).toBe(true);
    expect(pings(`${TT}br-d1`, d2.ipv4!)).toBe(true);
    expect(pings(`${TT}br-d1`, OUTSIDE_V6)).toBe(true);
    expect(await sourceSeenBy(lab.outside, OUTSIDE_V6, 7002, `${TT}br-d1`)).toBe(HOST_UPLINK_V6);
  });

  it('picks a free subnet that avoids routes already on the host, and says which', async () => {
    // A route on the host for the first default pool: tnet must skip it.
    tryRun('ip', '-n', lab.ns, 'route', 'add', '172.17.0.0/16', 'via', OUTSIDE_V4);
    const r = await lab.tnet('create', 'auto');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/picked subnet 172\.18\.0\.0\/16/);
  });

  it('connects several networks to one namespace as eth0, eth1', async () => {
    const e = await connect('back', `${TT}br-a`);
    expect(e.ifname).toBe('eth1');
    expect(inNetns(`${TT}br-a`, 'ip', '-o', 'addr', 'show', 'dev', 'eth1')).toContain('10.51.0.');
  });

  it('applies the network MTU, a chosen MAC and interface name, and a custom bridge name', async () => {
    await lab.ok('create', '--subnet', '10.54.0.0/24', '--mtu', '1400', '-o', 'bridge.name=tt-br-custom', 'small');
    const ns = lab.container('m');
    const e = await connect('small', ns, '--mac', '02:42:ac:11:00:99', '--ifname', 'net0', '--ip', '10.54.0.99');
    expect(e).toMatchObject({ ifname: 'net0', mac: '02:42:ac:11:00:99', ipv4: '10.54.0.99' });
    const link = inNetns(ns, 'ip', '-o', 'link', 'show', 'net0');
    expect(link).toMatch(/mtu 1400/);
    expect(link).toContain('02:42:ac:11:00:99');
    expect(inNetns(lab.ns, 'ip', '-o', 'link', 'show', 'tt-br-custom')).toMatch(/mtu 1400/);
    await lab.ok('rm', '--force', 'small');
    expect(tryRun('ip', '-n', lab.ns, 'link', 'show', 'tt-br-custom').status).not.toBe(0);
  });

  it('disconnect removes exactly what connect made and frees the address', async () => {
    const ns = lab.container('tmp');
    const e = await connect('front', ns);
    await lab.ok('disconnect', 'front', '--netns', ns);
    expect(inNetns(ns, 'ip', '-o', 'link', 'show')).not.toContain('eth0');
    expect(lab.tnetLinks()).not.toContain(`tnv${e.id.slice(0, 12)}`);
    const again = await connect('front', ns);
    expect(again.ipv4).toBe(e.ipv4);
  });

  it('a connect after the bridge was deleted by hand puts it back with every port, not only the new one', async () => {
    await lab.ok('create', '--subnet', '10.54.0.0/24', 'mend');
    const m1 = await connect('mend', lab.container('m1'));
    const m2 = await connect('mend', lab.container('m2'));
    const master = (veth: string): string | undefined =>
      (JSON.parse(inNetns(lab.ns, 'ip', '-j', 'link', 'show', 'dev', veth)) as Array<{ master?: string }>)[0]?.master;
    const bridge = master(`tnv${m1.id.slice(0, 12)}`) ?? '';
    expect(bridge).toMatch(/^tnbr-/);
    inNetns(lab.ns, 'ip', 'link', 'del', bridge);
    // A scoped pass for m3 alone: the bridge it creates again must also take m1 and m2 back.
    const m3 = await connect('mend', lab.container('m3'));
    expect([m1, m2, m3].map((e) => master(`tnv${e.id.slice(0, 12)}`))).toEqual([bridge, bridge, bridge]);
    expect(pings(`${TT}br-m1`, m2.ipv4!)).toBe(true);
    await lab.ok('rm', '--force', 'mend');
  });

  it('rm refuses a network in use, --force removes it and everything under it; nothing is left', async () => {
    const r = await lab.tnet('rm', 'front');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/in use by 3 endpoint/);
    for (const net of ['front', 'back', 'vault', 'dual', 'auto']) await lab.ok('rm', '--force', net);
    expect(lab.tnetLinks()).toEqual([]);
    expect(lab.nftTable()).toBeUndefined();
    expect(JSON.parse(await lab.ok('ls', '--json'))).toEqual([]);
    expect(inNetns(`${TT}br-a`, 'ip', '-o', 'link', 'show')).not.toMatch(/eth[01]/);
  });
});
