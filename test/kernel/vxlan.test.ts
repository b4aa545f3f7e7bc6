/**
 * VXLAN devices, FDB and neighbour entries against the real kernel: two "hosts" (namespaces
 * joined by an underlay veth) each with a bridge, a VXLAN device and a container, with no
 * flooding and no learning: the container on h1 reaches the one on h2 only because of the
 * entries programmed here, over IPv4 (ARP answered by the proxying device) and IPv6 (Neighbour
 * Solicitations answered the same way, from NDP entries).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNetlinkSession } from '../../lib/kernel/netlink.js';
import { openNetns } from '../../lib/kernel/netns.js';
import type { NetlinkSession, NetnsHandle } from '../../lib/kernel/types.js';
import { addNetns, delNetnsWithPrefix, TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { inNetns, pings, pingsWithin, sh } from '../helpers/sh.js';

const P = `${TT}ovk-`;
const H = [`${P}h1`, `${P}h2`] as const;
const C = [`${P}c1`, `${P}c2`] as const;
const VTEP = ['192.168.77.1', '192.168.77.2'] as const;
const IP = ['10.77.0.2', '10.77.0.3'] as const;
const IP6 = ['fd77::2', 'fd77::3'] as const;
const MAC = ['02:77:00:00:00:02', '02:77:00:00:00:03'] as const;
const VNI = 4242;

let handles: NetnsHandle[] = [];
let hosts: NetlinkSession[] = [];
const vx: number[] = [];

beforeAll(() => {
  for (const n of [...H, ...C]) addNetns(n);
  sh('ip', 'link', 'add', 'ul', 'netns', H[0], 'type', 'veth', 'peer', 'name', 'ul', 'netns', H[1]);
  H.forEach((h, i) => {
    inNetns(h, 'ip', 'addr', 'add', `${VTEP[i]}/24`, 'dev', 'ul');
    inNetns(h, 'ip', 'link', 'set', 'ul', 'up');
  });
  handles = [...H, ...C].map(openNetns);
  hosts = handles.slice(0, 2).map((h) => openNetlinkSession(h));
});

afterAll(() => {
  for (const s of hosts) s.close();
  for (const h of handles) h.close();
  delNetnsWithPrefix(P);
});

const host = (i: number): NetlinkSession => hosts[i] as NetlinkSession;

describe('vxlan over netlink', () => {
  it('creates a unicast VXLAN device with learning off and proxy on, and reads its settings back', async () => {
    for (const i of [0, 1]) {
      const s = host(i);
      const br = await s.createBridge('tnbr-k', { mtu: 1450 });
      const link = await s.createVxlan('tnvx-k', { mtu: 1450, alias: 'tnet:aaaaaaaaaaaa', masterIndex: br.index, vni: VNI, local: VTEP[i] as string, port: 4789, proxy: true });
      vx[i] = link.index;
      expect(link).toMatchObject({ kind: 'vxlan', mtu: 1450, alias: 'tnet:aaaaaaaaaaaa', masterIndex: br.index });
      const listed = (await s.listLinks()).find((l) => l.name === 'tnvx-k');
      expect(listed?.vxlan).toEqual({ vni: VNI, local: VTEP[i], port: 4789, learning: false, proxy: true });
      for (const idx of [br.index, link.index]) await s.setLink(idx, { up: true });
      const veth = await s.createVethPair(`tnv-k${i}`, { mtu: 1450, masterIndex: br.index }, { name: 'eth0', netns: handles[2 + i] as NetnsHandle, mtu: 1450, mac: MAC[i] as string });
      await s.setLink(veth.index, { up: true });
      inNetns(C[i] as string, 'ip', 'addr', 'add', `${IP[i]}/24`, 'dev', 'eth0');
      inNetns(C[i] as string, 'ip', '-6', 'addr', 'add', `${IP6[i]}/64`, 'dev', 'eth0', 'nodad');
      inNetns(C[i] as string, 'ip', 'link', 'set', 'eth0', 'up');
    }
    const details = inNetns(H[0], 'ip', '-d', 'link', 'show', 'tnvx-k');
    expect(details).toContain(`vxlan id ${VNI} local ${VTEP[0]}`);
    expect(details).toContain('nolearning');
    expect(details).toContain('proxy');
  });

  it('does not reach the other host before entries are programmed (no flood, no learn)', () => {
    expect(pings(C[0], IP[1] as string)).toBe(false);
    expect(pings(C[0], IP6[1] as string)).toBe(false);
  });

  it('reaches the other container once FDB and neighbour entries exist on both sides', async () => {
    for (const [i, j] of [[0, 1], [1, 0]] as const) {
      await host(i).addFdb(vx[i] as number, MAC[j] as string, VTEP[j] as string);
      await host(i).addNeighbour(vx[i] as number, 4, IP[j] as string, MAC[j] as string);
      await host(i).addFdb(vx[i] as number, MAC[j] as string, VTEP[j] as string); // idempotent
      await host(i).addNeighbour(vx[i] as number, 4, IP[j] as string, MAC[j] as string);
    }
    const fdb = await host(0).listFdb(vx[0]);
    expect(fdb).toContainEqual({ linkIndex: vx[0], mac: MAC[1], dst: VTEP[1], permanent: true, self: true });
    const neigh = (await host(0).listNeighbours(4)).filter((n) => n.linkIndex === vx[0]);
    expect(neigh).toContainEqual({ linkIndex: vx[0], family: 4, address: IP[1], mac: MAC[1], permanent: true });
    expect(pingsWithin(C[0], IP[1] as string)).toBe(true);
    expect(pingsWithin(C[1], IP[0] as string)).toBe(true);
  });

  it('answers Neighbour Solicitations from permanent IPv6 entries, so IPv6 crosses without flooding', async () => {
    for (const [i, j] of [[0, 1], [1, 0]] as const) {
      await host(i).addNeighbour(vx[i] as number, 6, IP6[j] as string, MAC[j] as string);
      await host(i).addNeighbour(vx[i] as number, 6, IP6[j] as string, MAC[j] as string); // idempotent
    }
    const neigh = (await host(0).listNeighbours(6)).filter((n) => n.linkIndex === vx[0]);
    expect(neigh).toContainEqual({ linkIndex: vx[0], family: 6, address: IP6[1], mac: MAC[1], permanent: true });
    expect(pingsWithin(C[0], IP6[1] as string)).toBe(true);
    expect(pingsWithin(C[1], IP6[0] as string)).toBe(true);
    // Solicitations go to a multicast MAC with no FDB entry (nothing floods), so the answer that
    // resolved this came from h1's own device.
    expect(inNetns(C[0], 'ip', '-6', 'neigh', 'show', IP6[1] as string)).toContain(MAC[1]);
  });

  it('appends several all-zero flood entries and deletes entries idempotently', async () => {
    const zero = '00:00:00:00:00:00';
    await host(0).addFdb(vx[0] as number, zero, '192.168.77.50');
    await host(0).addFdb(vx[0] as number, zero, '192.168.77.51');
    await host(0).addFdb(vx[0] as number, zero, '192.168.77.51');
    const floods = (await host(0).listFdb(vx[0])).filter((e) => e.mac === zero).map((e) => e.dst).sort();
    expect(floods).toEqual(['192.168.77.50', '192.168.77.51']);
    await host(0).deleteFdb(vx[0] as number, zero, '192.168.77.50');
    await host(0).deleteFdb(vx[0] as number, zero, '192.168.77.50');
    expect((await host(0).listFdb(vx[0])).filter((e) => e.mac === zero).map((e) => e.dst)).toEqual(['192.168.77.51']);

    await host(0).deleteNeighbour(vx[0] as number, 4, IP[1]);
    await host(0).deleteNeighbour(vx[0] as number, 4, IP[1]);
    await host(0).deleteNeighbour(vx[0] as number, 6, IP6[1]);
    await host(0).deleteNeighbour(vx[0] as number, 6, IP6[1]);
    await host(0).deleteFdb(vx[0] as number, MAC[1], VTEP[1]);
    expect((await host(0).listFdb(vx[0])).some((e) => e.self && e.mac === MAC[1])).toBe(false);
    expect((await host(0).listNeighbours(4)).some((n) => n.address === IP[1] && n.linkIndex === vx[0])).toBe(false);
    expect((await host(0).listNeighbours(6)).some((n) => n.address === IP6[1] && n.linkIndex === vx[0])).toBe(false);
  });

  it('maps a VXLAN device whose name is taken to exists', async () => {
    await expect(host(0).createVxlan('tnvx-k', { mtu: 1450, vni: 1, local: VTEP[0], port: 4789, proxy: false })).rejects.toMatchObject({ kind: 'exists' });
  });
});
