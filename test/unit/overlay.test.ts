/** The overlay's pure parts: driver output per cluster mode, VXLAN planning, network resolution. */
import { describe, expect, it } from 'vitest';
import { overlayDriver } from '../../lib/drivers/overlay.js';
import type { ClusterView } from '../../lib/drivers/types.js';
import type { FdbEntry, LinkState, NeighbourEntry } from '../../lib/kernel/types.js';
import { bridgeNameFor, ownerAlias, vxlanNameFor } from '../../lib/model/names.js';
import { resolveNetwork } from '../../lib/model/network-resolve.js';
import { desiredHost } from '../../lib/reconcile/desired.js';
import type { ObservedHost } from '../../lib/reconcile/observed.js';
import { planVxlan } from '../../lib/reconcile/plan-overlay.js';
import type { Endpoint } from '../../lib/model/types.js';
import { parseSpecFile } from '../../lib/model/spec-file.js';
import { expectError } from './expect-error.js';
import { endpoint, network } from './fixtures.js';

const ov = network({ name: 'ov', driver: 'overlay', ipv4: { subnet: '10.40.0.0/24', gateway: '10.40.0.1' }, mtu: 1450, overlay: { vni: 4242 } });
const on = (e: Endpoint, host: string): Endpoint => ({ ...e, host });
const a1 = on(endpoint(ov, '/run/netns/h1-a', '10.40.0.2'), 'h1');
const b2 = on(endpoint(ov, '/run/netns/h2-b', '10.40.0.3'), 'h2');
const c3 = on(endpoint(ov, '/run/netns/h3-c', '10.40.0.4'), 'h3');
const dual = network({ ...ov, ipv6: { subnet: 'fd74:6e65:7400::/64', gateway: 'fd74:6e65:7400::1' } });
const dualA1: Endpoint = { ...a1, ipv6: 'fd74:6e65:7400::2' };
const dualB2: Endpoint = { ...b2, ipv6: 'fd74:6e65:7400::3' };
const dualC3: Endpoint = { ...c3, ipv6: 'fd74:6e65:7400::4' };
const store = (peers: Record<string, string>): ClusterView => ({ self: { name: 'h1', vtep: '192.168.56.11' }, peers: new Map(Object.entries(peers)), mode: 'store' });

describe('overlay driver', () => {
  it('realises only local endpoints and programs FDB + ARP entries for remote ones on live hosts', () => {
    const [d] = desiredHost([ov], [a1, b2, c3], store({ h2: '192.168.56.12' }));
    expect(d?.endpoints.map((e) => e.endpoint.id)).toEqual([a1.id]);
    expect(d?.objects.vxlan).toEqual({
      name: vxlanNameFor(ov), vni: 4242, local: '192.168.56.11', port: 4789, mtu: 1450, alias: ownerAlias(ov.id), master: bridgeNameFor(ov), proxy: true,
      fdb: [{ mac: b2.mac, dst: '192.168.56.12' }], // h3 is not alive: no entries for c3
      neighbours: [{ family: 4, address: '10.40.0.3', mac: b2.mac }],
    });
    expect(d?.objects.firewall?.subnets).toEqual(['10.40.0.0/24']);
  });

  it('gives a dual-stack network IPv6 on the bridge and in containers, an NDP entry per remote endpoint, and v6 egress', () => {
    const [d] = desiredHost([dual], [dualA1, dualB2], store({ h2: '192.168.56.12' }));
    expect(d?.objects.bridge?.addresses).toEqual([
      { family: 4, address: '10.40.0.1', prefixLength: 24 },
      { family: 6, address: 'fd74:6e65:7400::1', prefixLength: 64 },
    ]);
    expect(d?.objects.vxlan?.neighbours).toEqual([
      { family: 4, address: '10.40.0.3', mac: dualB2.mac },
      { family: 6, address: 'fd74:6e65:7400::3', mac: dualB2.mac },
    ]);
    expect(d?.objects.vxlan?.fdb).toEqual([{ mac: dualB2.mac, dst: '192.168.56.12' }]);
    expect(d?.objects.firewall?.subnets).toEqual(['10.40.0.0/24', 'fd74:6e65:7400::/64']);
    expect(d?.objects.sysctls).toContainEqual({ key: 'net/ipv6/conf/all/forwarding', value: '1' });
    const veth = d?.endpoints[0]?.objects;
    expect(veth?.kind === 'veth' && veth.container).toMatchObject({
      addresses: [{ family: 4, address: '10.40.0.2' }, { family: 6, address: 'fd74:6e65:7400::2', prefixLength: 64 }],
      routes: [{ family: 4, destination: '0.0.0.0/0', gateway: '10.40.0.1' }, { family: 6, destination: '::/0', gateway: 'fd74:6e65:7400::1' }],
    });
  });

  it('floods to the listed peers in static mode, with ARP crossing the tunnel', () => {
    const view: ClusterView = { self: { name: 'h1', vtep: '192.168.56.11' }, peers: new Map([['h3', '192.168.56.13'], ['h2', '192.168.56.12']]), mode: 'static' };
    const v = overlayDriver.network(ov, view, []).vxlan;
    expect(v?.proxy).toBe(false);
    expect(v?.fdb).toEqual([{ mac: '00:00:00:00:00:00', dst: '192.168.56.12' }, { mac: '00:00:00:00:00:00', dst: '192.168.56.13' }]);
    expect(v?.neighbours).toEqual([]);
  });

  it('builds nothing on a host that has not joined', () => {
    expect(overlayDriver.network(ov, { peers: new Map(), mode: 'store' }, [])).toEqual({ sysctls: [] });
  });
});

describe('VXLAN planning', () => {
  const want = overlayDriver.network(ov, store({ h2: '192.168.56.12', h3: '192.168.56.13' }), [b2, c3]).vxlan!;
  const link = (extra: Partial<LinkState> = {}): LinkState => ({
    index: 20, name: want.name, kind: 'vxlan', mtu: 1450, up: true, mac: '02:00:00:00:00:20', masterIndex: 10, alias: want.alias,
    vxlan: { vni: 4242, local: '192.168.56.11', port: 4789, learning: false, proxy: true }, ...extra,
  });
  const bridgeLink: LinkState = { index: 10, name: want.master, kind: 'bridge', mtu: 1450, up: true, mac: '02:00:00:00:00:10', alias: want.alias };
  const observed = (l: LinkState, fdb: FdbEntry[], neighbours: NeighbourEntry[]): ObservedHost => ({
    host: { links: [bridgeLink, l], addresses: [], routes: [] }, sysctls: new Map(), firewall: undefined, endpoints: new Map(), fdb, neighbours,
  });
  const fdbOf = (mac: string, dst: string): FdbEntry => ({ linkIndex: 20, mac, dst, permanent: true, self: true });
  const neighOf = (address: string, mac: string): NeighbourEntry => ({ linkIndex: 20, family: 4, address, mac, permanent: true });
  const converged = { fdb: [fdbOf(b2.mac, '192.168.56.12'), fdbOf(c3.mac, '192.168.56.13')], neigh: [neighOf('10.40.0.3', b2.mac), neighOf('10.40.0.4', c3.mac)] };

  it('creates the device (up), then adds every entry', () => {
    const p = planVxlan({ ...observed(link(), [], []), host: { links: [bridgeLink], addresses: [], routes: [] } }, want);
    expect(p.actions.map((a) => a.do)).toEqual(['createVxlan', 'addFdb', 'addFdb', 'addNeighbour', 'addNeighbour']);
  });

  it('plans nothing when converged; ignores bridge-learned and non-permanent entries', () => {
    const learned: FdbEntry = { linkIndex: 20, mac: '02:aa:00:00:00:01', permanent: false, self: false };
    const incomplete: NeighbourEntry = { linkIndex: 20, family: 4, address: '10.40.0.99', permanent: false };
    expect(planVxlan(observed(link(), [...converged.fdb, learned], [...converged.neigh, incomplete]), want).actions).toEqual([]);
  });

  it('removes the entries of an endpoint that left, deleting before adding when a MAC moved host', () => {
    const moved = [fdbOf(b2.mac, '192.168.56.99'), fdbOf(c3.mac, '192.168.56.13'), fdbOf('02:dd:00:00:00:01', '192.168.56.13')];
    const p = planVxlan(observed(link(), moved, [...converged.neigh, neighOf('10.40.0.9', '02:dd:00:00:00:01')]), want);
    expect(p.actions).toEqual([
      { do: 'deleteFdb', link: want.name, mac: b2.mac, dst: '192.168.56.99' },
      { do: 'deleteFdb', link: want.name, mac: '02:dd:00:00:00:01', dst: '192.168.56.13' },
      { do: 'addFdb', link: want.name, mac: b2.mac, dst: '192.168.56.12' },
      { do: 'deleteNeighbour', link: want.name, family: 4, address: '10.40.0.9' },
    ]);
  });

  it('repairs a deleted IPv6 neighbour entry and removes a stale one, leaving IPv4 entries alone', () => {
    const wantDual = overlayDriver.network(dual, store({ h2: '192.168.56.12', h3: '192.168.56.13' }), [dualB2, dualC3]).vxlan!;
    const v6 = (address: string, mac: string): NeighbourEntry => ({ ...neighOf(address, mac), family: 6 });
    const all = [...converged.neigh, v6('fd74:6e65:7400::3', b2.mac), v6('fd74:6e65:7400::4', c3.mac)];
    expect(planVxlan(observed(link(), converged.fdb, all), wantDual).actions).toEqual([]);
    const drifted = [...converged.neigh, v6('fd74:6e65:7400::4', c3.mac), v6('fd74:6e65:7400::99', '02:dd:00:00:00:01')];
    expect(planVxlan(observed(link(), converged.fdb, drifted), wantDual).actions).toEqual([
      { do: 'deleteNeighbour', link: want.name, family: 6, address: 'fd74:6e65:7400::99' },
      { do: 'addNeighbour', link: want.name, family: 6, address: 'fd74:6e65:7400::3', mac: b2.mac },
    ]);
  });

  it('recreates an incompatible device (other VNI) and refuses one that is not ours', () => {
    const p = planVxlan(observed(link({ vxlan: { vni: 7, local: '192.168.56.11', port: 4789, learning: false, proxy: true } }), [], []), want);
    expect(p.actions[0]).toEqual({ do: 'deleteLink', link: want.name });
    expect(p.actions[1]?.do).toBe('createVxlan');
    expect(p.notes[0]).toMatch(/vni 7 instead of 4242/);
    expect(planVxlan(observed(link({ alias: 'someone else' }), [], []), want).problems[0]).toMatch(/not created by tnet/);
  });
});

describe('overlay network resolution', () => {
  const ctx = { id: 'a'.repeat(64), now: '2026-01-01T00:00:00.000Z', existing: [ov], hostRoutes: ['192.168.56.0/24'], underlay: { link: 'ul', mtu: 1500 } };

  it('derives the MTU from the underlay and picks the lowest free VNI', () => {
    const n = resolveNetwork({ name: 'o2', driver: 'overlay', ipv4: { subnet: '10.41.0.0/24' } }, ctx);
    expect(n).toMatchObject({ mtu: 1450, overlay: { vni: 256 }, ipv4: { subnet: '10.41.0.0/24', gateway: '10.41.0.1' } });
  });

  it('takes IPv6 like a bridge network: a ULA /64 from the pool, or a given subnet checked against networks and routes', () => {
    const withDual = { ...ctx, existing: [dual], hostRoutes: ['192.168.56.0/24', 'fd00:56::/64'] };
    expect(resolveNetwork({ name: 'o2', driver: 'overlay', ipv4: { subnet: '10.41.0.0/24' }, ipv6: {} }, withDual)).toMatchObject({
      ipv6: { subnet: 'fd74:6e65:7400:1::/64', gateway: 'fd74:6e65:7400:1::1' },
    });
    expect(resolveNetwork({ name: 'o2', driver: 'overlay', ipv6: { subnet: 'fd00:41::/64' } }, withDual).ipv6).toEqual({ subnet: 'fd00:41::/64', gateway: 'fd00:41::1' });
    expectError(() => resolveNetwork({ name: 'o2', driver: 'overlay', ipv6: { subnet: 'fd74:6e65:7400::/56' } }, withDual), 'conflict', /overlaps network "ov"/);
    expectError(() => resolveNetwork({ name: 'o2', driver: 'overlay', ipv6: { subnet: 'fd00:56::/64' } }, withDual), 'conflict', /overlaps fd00:56::\/64, which this host already routes/);
    expectError(() => resolveNetwork({ name: 'o2', driver: 'overlay', ipv6: {} }, { ...ctx, underlay: { link: 'ul', mtu: 1300 } }), 'invalidInput', /would get MTU 1250 .* too small for IPv6, which needs at least 1280/);
  });

  it('refuses a too large MTU, a used VNI, an overlapping subnet, a routed subnet, and a host that has not joined', () => {
    expectError(() => resolveNetwork({ name: 'o2', driver: 'overlay', mtu: 1451 }, ctx), 'invalidInput', /MTU 1451 is too large .* underlay link ul has MTU 1500 .* at most 1450/);
    expectError(() => resolveNetwork({ name: 'o2', driver: 'overlay', vni: 4242 }, ctx), 'conflict', /VNI 4242 is already used by overlay network "ov"/);
    expectError(() => resolveNetwork({ name: 'o2', driver: 'overlay', ipv4: { subnet: '10.40.0.128/25' } }, ctx), 'conflict', /overlaps network "ov"/);
    expectError(() => resolveNetwork({ name: 'o2', driver: 'overlay', ipv4: { subnet: '192.168.56.0/25' } }, ctx), 'conflict', /overlaps 192.168.56.0\/24, which this host already routes/);
    const { underlay: _, ...alone } = ctx;
    expectError(() => resolveNetwork({ name: 'o2', driver: 'overlay' }, alone), 'invalidInput', /tnet host join --vtep/);
  });
});

describe('static peers in spec files', () => {
  const spec = (extra: string): string => `${extra}\nnetworks:\n  - { name: ov, driver: overlay, vni: 5000, subnet: 10.50.0.0/24 }\n`;

  it('reads host and peers, dropping this host from its own peer list', () => {
    const s = parseSpecFile(spec('host: { name: h1, vtep: 192.168.56.11 }\npeers:\n  - { name: h1, vtep: 192.168.56.11 }\n  - { name: h2, vtep: 192.168.56.12 }'), 'h1.yaml');
    expect(s.cluster).toEqual({ self: { name: 'h1', vtep: '192.168.56.11' }, peers: [{ name: 'h2', vtep: '192.168.56.12' }] });
    expect(s.networks[0]?.request).toMatchObject({ driver: 'overlay', vni: 5000 });
  });

  it('refuses peers without host, duplicate VTEPs and IPv6 VTEPs', () => {
    expectError(() => parseSpecFile(spec('peers: []'), 'x.yaml'), 'invalidConfig', /^x\.yaml: host: is required with peers/);
    expectError(() => parseSpecFile(spec('host: { name: h1, vtep: 10.0.0.1 }\npeers:\n  - { name: h2, vtep: 10.0.0.1 }'), 'x.yaml'), 'invalidConfig', /peers\[0\]\.vtep: VTEP 10\.0\.0\.1 is given to two hosts/);
    expectError(() => parseSpecFile(spec('host: { name: h1, vtep: "fd00::1" }'), 'x.yaml'), 'invalidConfig', /host\.vtep: fd00::1 is an IPv6 address/);
  });
});
