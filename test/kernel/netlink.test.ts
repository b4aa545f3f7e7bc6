import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNetlinkSession } from '../../lib/kernel/netlink.js';
import { openNetns } from '../../lib/kernel/netns.js';
import type { NetlinkSession, NetnsHandle } from '../../lib/kernel/types.js';
import { addNetns, delNetnsWithPrefix, TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { inNetns, pings } from '../helpers/sh.js';

const P = `${TT}knl-`;
const HOST = `${P}host`;
const C1 = `${P}c1`;
const C2 = `${P}c2`;

let hostNs: NetnsHandle, c1Ns: NetnsHandle, c2Ns: NetnsHandle;
let host: NetlinkSession, c1: NetlinkSession, c2: NetlinkSession;

beforeAll(() => {
  for (const n of [HOST, C1, C2]) addNetns(n);
  [hostNs, c1Ns, c2Ns] = [HOST, C1, C2].map(openNetns) as [NetnsHandle, NetnsHandle, NetnsHandle];
  [host, c1, c2] = [hostNs, c1Ns, c2Ns].map((h) => openNetlinkSession(h)) as [NetlinkSession, NetlinkSession, NetlinkSession];
});

afterAll(() => {
  for (const s of [host, c1, c2]) s?.close();
  for (const h of [hostNs, c1Ns, c2Ns]) h?.close();
  delNetnsWithPrefix(P);
});

const byName = async (s: NetlinkSession, name: string) => (await s.listLinks()).find((l) => l.name === name);

describe('netlink session in a test netns', () => {
  let bridgeIndex = 0;

  it('creates a bridge with an alias, lists it, maps EEXIST to exists', async () => {
    const br = await host.createBridge('tnbr-t1', { mtu: 1400, alias: 'tnet:n1' });
    bridgeIndex = br.index;
    expect(br).toMatchObject({ name: 'tnbr-t1', kind: 'bridge', mtu: 1400, alias: 'tnet:n1', up: false });
    expect(await byName(host, 'tnbr-t1')).toMatchObject({ index: br.index, kind: 'bridge', alias: 'tnet:n1' });
    expect(inNetns(HOST, 'ip', '-d', 'link', 'show', 'tnbr-t1')).toContain('alias tnet:n1');
    await expect(host.createBridge('tnbr-t1', { mtu: 1400 })).rejects.toMatchObject({
      kind: 'exists',
      message: 'create bridge "tnbr-t1": File exists',
    });
    await host.setLink(br.index, { up: true });
    expect((await byName(host, 'tnbr-t1'))?.up).toBe(true);
  });

  it('creates veth pairs whose peers are born in other netns with final name, mtu and MAC', async () => {
    const v1 = await host.createVethPair(
      'tnv-t1',
      { mtu: 1400, alias: 'tnet:n1:e1', masterIndex: bridgeIndex },
      { name: 'eth0', netns: c1Ns, mtu: 1400, mac: '02:00:00:00:00:01' },
    );
    expect(v1).toMatchObject({ name: 'tnv-t1', kind: 'veth', mtu: 1400, masterIndex: bridgeIndex, alias: 'tnet:n1:e1' });
    const v2 = await host.createVethPair('tnv-t2', { mtu: 1400 }, { name: 'eth0', netns: c2Ns, mtu: 1400 });
    expect(v2.masterIndex).toBeUndefined();
    expect(await byName(c1, 'eth0')).toMatchObject({ kind: 'veth', mtu: 1400, mac: '02:00:00:00:00:01' });
    expect(await byName(c2, 'eth0')).toMatchObject({ kind: 'veth', mtu: 1400 });
    expect(inNetns(C1, 'ip', 'link', 'show', 'eth0')).toContain('02:00:00:00:00:01');
    expect(await byName(host, 'eth0')).toBeUndefined();

    await host.setLink(v2.index, { masterIndex: bridgeIndex, up: true, mtu: 1300, alias: 'tnet:n1:e2' });
    expect(await byName(host, 'tnv-t2')).toMatchObject({ masterIndex: bridgeIndex, up: true, mtu: 1300, alias: 'tnet:n1:e2' });
    await host.setLink(v2.index, { masterIndex: null, mtu: 1400 });
    expect((await byName(host, 'tnv-t2'))?.masterIndex).toBeUndefined();
    await host.setLink(v2.index, { masterIndex: bridgeIndex });
    await host.setLink(v1.index, { up: true, mac: '02:00:00:00:01:01' });
    expect(await byName(host, 'tnv-t1')).toMatchObject({ up: true, mac: '02:00:00:00:01:01' });
  });

  it('adds addresses idempotently (v4 and v6 nodad) and lists them', async () => {
    const br = await byName(host, 'tnbr-t1');
    const e1 = await byName(c1, 'eth0');
    const e2 = await byName(c2, 'eth0');
    if (!br || !e1 || !e2) throw new Error('links missing');
    for (let i = 0; i < 2; i++) {
      await host.addAddress(br.index, 4, '10.77.0.1', 24);
      await host.addAddress(br.index, 6, 'fd77:0::1', 64);
      await c1.addAddress(e1.index, 4, '10.77.0.2', 24);
      await c1.addAddress(e1.index, 6, 'fd77::2', 64);
    }
    await c2.addAddress(e2.index, 4, '10.77.0.3', 24);
    for (const [s, l] of [[c1, e1], [c2, e2]] as const) await s.setLink(l.index, { up: true });

    const addrs = await host.listAddresses();
    expect(addrs).toContainEqual({ linkIndex: br.index, family: 4, address: '10.77.0.1', prefixLength: 24 });
    expect(addrs).toContainEqual({ linkIndex: br.index, family: 6, address: 'fd77::1', prefixLength: 64 });
    expect((await host.listAddresses(4)).every((a) => a.family === 4)).toBe(true);
    expect(inNetns(C1, 'ip', '-6', 'addr', 'show', 'eth0')).toMatch(/fd77::2\/64 scope global nodad\s/);

    await c1.deleteAddress(e1.index, 6, 'fd77::2', 64);
    await c1.deleteAddress(e1.index, 6, 'fd77::2', 64);
    expect((await c1.listAddresses(6)).some((a) => a.address === 'fd77::2')).toBe(false);
  });

  it('adds a default route via the gateway idempotently, refuses a different one, deletes idempotently', async () => {
    const e1 = await byName(c1, 'eth0');
    if (!e1) throw new Error('eth0 missing');
    const route = { family: 4 as const, destination: '0.0.0.0/0', gateway: '10.77.0.1', outIndex: e1.index };
    await c1.addRoute(route);
    await c1.addRoute(route);
    expect(await c1.listRoutes(4)).toContainEqual(
      expect.objectContaining({ destination: '0.0.0.0/0', gateway: '10.77.0.1', outIndex: e1.index, table: 254 }),
    );
    expect(inNetns(C1, 'ip', 'route', 'show', 'default')).toContain('via 10.77.0.1 dev eth0');
    await expect(c1.addRoute({ ...route, gateway: '10.77.0.3' })).rejects.toMatchObject({ kind: 'exists' });

    await c1.addAddress(e1.index, 6, 'fd77::2', 64);
    const route6 = { family: 6 as const, destination: '::/0', gateway: 'fd77:0:0::1', outIndex: e1.index };
    await c1.addRoute(route6);
    await c1.addRoute(route6);
    expect(await c1.listRoutes(6)).toContainEqual(
      expect.objectContaining({ family: 6, destination: '::/0', gateway: 'fd77::1', outIndex: e1.index }),
    );

    await c1.addRoute({ family: 4, destination: '10.99.0.0/16', gateway: '10.77.0.1', outIndex: e1.index });
    await c1.deleteRoute({ family: 4, destination: '10.99.0.0/16' });
    await c1.deleteRoute({ family: 4, destination: '10.99.0.0/16' });
    expect((await c1.listRoutes(4)).some((r) => r.destination === '10.99.0.0/16')).toBe(false);
  });

  it('carries traffic between the two netns over the bridge', () => {
    expect(pings(C1, '10.77.0.3')).toBe(true);
    expect(pings(C1, '10.77.0.1')).toBe(true);
    expect(pings(C1, 'fd77::1')).toBe(true);
  });

  it('deletes links, accepting ones already gone', async () => {
    const v1 = await byName(host, 'tnv-t1');
    if (!v1) throw new Error('tnv-t1 missing');
    await host.deleteLink(v1.index);
    await host.deleteLink(v1.index);
    await host.deleteLink(999_999);
    expect(await byName(c1, 'eth0')).toBeUndefined(); // the peer goes with it
  });
});
