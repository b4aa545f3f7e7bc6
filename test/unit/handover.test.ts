/**
 * Endpoints whose runtime places the container side itself (Docker): what the planner does in each
 * state of the handover, and when the runtime counts as done with the interface.
 */
import { describe, expect, it } from 'vitest';
import { bridgeDriver } from '../../lib/drivers/bridge.js';
import type { LinkState } from '../../lib/kernel/types.js';
import { bridgeMacFor, bridgeNameFor, hostVethNameFor, ownerAlias, TNET_LINK_GROUP } from '../../lib/model/names.js';
import type { Endpoint, Handover } from '../../lib/model/types.js';
import { desiredHost, hostLinkNames } from '../../lib/reconcile/desired.js';
import { handedOver, settled } from '../../lib/reconcile/handover.js';
import type { ObservedHost, ObservedNamespace } from '../../lib/reconcile/observed.js';
import { planHost } from '../../lib/reconcile/plan.js';
import { endpoint, network } from './fixtures.js';

const web = network({ name: 'web' });
const HOST = '/proc/thread-self/ns/net';
const SANDBOX = '/var/run/docker/netns/4d55bfb61b05';
const docker = (handover: Handover, netns = handover.state === 'parked' ? HOST : SANDBOX): Endpoint => {
  const base = endpoint(web, HOST, '10.1.0.2');
  return { ...base, netns, ifname: handover.state === 'placed' ? 'eth0' : handover.parkedName, routeMetric: 0, owner: { kind: 'docker', endpointId: 'e'.repeat(64), networkId: 'n'.repeat(64) }, handover };
};
const PARKED = 'tndeeeeeeeeeeee';
const bridge = bridgeNameFor(web);

const link = (index: number, name: string, extra: Partial<LinkState> = {}): LinkState => ({ index, name, mtu: 1500, up: true, mac: `02:00:00:00:00:${index.toString(16).padStart(2, '0')}`, ...extra });
const hostWith = (e: Endpoint, ...extra: LinkState[]): ObservedNamespace => ({
  links: [
    link(1, 'lo'),
    link(10, bridge, { kind: 'bridge', alias: ownerAlias(web.id), group: TNET_LINK_GROUP, mac: bridgeMacFor(web.id) }),
    link(11, hostVethNameFor(e.id), { kind: 'veth', alias: ownerAlias(web.id, e.id), masterIndex: 10, hairpin: true, group: TNET_LINK_GROUP }),
    ...extra,
  ],
  addresses: [{ linkIndex: 10, family: 4, address: '10.1.0.1', prefixLength: 24 }],
  routes: [],
});
const observedHost = (host: ObservedNamespace, e: Endpoint, container?: ObservedNamespace): ObservedHost => ({
  host,
  sysctls: new Map([['net/ipv4/ip_forward', '1'], [`net/ipv4/conf/${bridge}/route_localnet`, '1']]),
  firewall: undefined,
  endpoints: new Map(container ? [[e.id, { state: 'present', ns: container }]] : []),
});
/** The endpoint's own actions: the firewall is not this test's business. */
const mine = (e: Endpoint, host: ObservedNamespace, container?: ObservedNamespace) =>
  planHost(desiredHost([web], [e]), observedHost(host, e, container)).actions.filter((a) => a.do !== 'replaceFirewall');

describe('handover: what the kernel should hold in each state', () => {
  it('parked: a veth whose container side waits in the host namespace under the name Join gives Docker', () => {
    const e = docker({ state: 'parked', parkedName: PARKED });
    const objects = handedOver(bridgeDriver.endpoint(web, e), e);
    expect(objects).toEqual({ kind: 'handedVeth', hostVeth: expect.objectContaining({ name: hostVethNameFor(e.id) }), parked: { netns: HOST, name: PARKED, mac: e.mac, mtu: 1500 } });
    expect(hostLinkNames(desiredHost([web], [e]))).toEqual([bridge, hostVethNameFor(e.id), PARKED]);
    // Built down and bare: Docker moves, names, addresses and raises it.
    expect(mine(e, { ...hostWith(e), links: hostWith(e).links.slice(0, 2) })).toEqual([
      { do: 'createVeth', name: hostVethNameFor(e.id), mtu: 1500, alias: ownerAlias(web.id, e.id), master: bridge, netns: HOST, peer: { name: PARKED, mac: e.mac, mtu: 1500 } },
    ]);
    expect(mine(e, hostWith(e, link(12, PARKED, { kind: 'veth', up: false, mac: e.mac })))).toEqual([]);
  });

  it('parked: a container side gone elsewhere is built again; a foreign link with its name is a problem', () => {
    const e = docker({ state: 'parked', parkedName: PARKED });
    expect(mine(e, hostWith(e)).map((a) => a.do)).toEqual(['deleteLink', 'createVeth']);
    const plan = planHost(desiredHost([web], [e]), observedHost({ ...hostWith(e), links: [...hostWith(e).links.slice(0, 2), link(12, PARKED, { kind: 'dummy' })] }, e));
    expect(plan.problems.join()).toMatch(/link tndeeeeeeeeeeee already exists in the host namespace and was not created by tnet/);
  });

  it('joining and leaving: only the host side is tnet\'s; a pair that is gone is not rebuilt behind Docker\'s back', () => {
    for (const state of ['joining', 'leaving'] as const) {
      const e = docker({ state, parkedName: PARKED });
      expect(handedOver(bridgeDriver.endpoint(web, e), e)).toEqual({ kind: 'handedVeth', hostVeth: expect.anything() });
      expect(mine(e, hostWith(e))).toEqual([]);
      const down = hostWith(e);
      expect(mine(e, { ...down, links: down.links.map((l) => (l.index === 11 ? { ...l, up: false } : l)) })).toEqual([{ do: 'setLink', link: hostVethNameFor(e.id), change: { up: true } }]);
      const gone = planHost(desiredHost([web], [e]), observedHost({ ...down, links: down.links.slice(0, 2) }, e));
      expect(gone.actions.filter((a) => a.do !== 'replaceFirewall')).toEqual([]);
      expect(gone.notes.join()).toMatch(/its veth is gone while the runtime moves it/);
    }
  });

  it('placed: repaired like any container interface, with the default route only on the gateway endpoint (metric 0, as Docker sets it)', () => {
    const container = (routes: ObservedNamespace['routes']): ObservedNamespace => ({ links: [link(1, 'lo'), link(2, 'eth0', { kind: 'veth' })], addresses: [], routes });
    const plain = docker({ state: 'placed', parkedName: PARKED });
    const plainPlan = mine(plain, hostWith(plain), { ...container([]), links: [link(1, 'lo'), link(2, 'eth0', { kind: 'veth', mac: plain.mac })] });
    expect(plainPlan).toEqual([{ do: 'addAddress', netns: SANDBOX, link: 'eth0', address: { family: 4, address: '10.1.0.2', prefixLength: 24 } }]);
    const gw = docker({ state: 'placed', parkedName: PARKED, gateway: true });
    const gwPlan = mine(gw, hostWith(gw), { ...container([]), links: [link(1, 'lo'), link(2, 'eth0', { kind: 'veth', mac: gw.mac })] });
    expect(gwPlan.map((a) => a.do)).toEqual(['addAddress', 'addRoute']);
    expect(gwPlan[1]).toMatchObject({ route: { destination: '0.0.0.0/0', gateway: '10.1.0.1', metric: 0 } });
  });

  it('placed gateway endpoint: a default route Docker moved to another interface is Docker\'s choice (its Revoke follows), a missing one is put back', () => {
    const gw = docker({ state: 'placed', parkedName: PARKED, gateway: true });
    const links = [link(1, 'lo'), link(2, 'eth0', { kind: 'veth', mac: gw.mac }), link(3, 'eth1', { kind: 'veth' })];
    const addresses = [{ linkIndex: 2, family: 4 as const, address: '10.1.0.2', prefixLength: 24 }];
    const defaultVia = (outIndex: number, gateway: string, metric = 0) => ({ family: 4 as const, destination: '0.0.0.0/0', gateway, outIndex, metric, table: 254, protocol: 3, scope: 0 });
    expect(mine(gw, hostWith(gw), { links, addresses, routes: [defaultVia(3, '10.2.0.1')] })).toEqual([]);
    expect(mine(gw, hostWith(gw), { links, addresses, routes: [defaultVia(3, '10.2.0.1', 100)] }).map((a) => a.do)).toEqual(['addRoute']);
    expect(mine(gw, hostWith(gw), { links, addresses, routes: [] }).map((a) => a.do)).toEqual(['addRoute']);
  });
});

describe('handover: when Docker is done with the interface', () => {
  const e = docker({ state: 'placed', parkedName: PARKED, gateway: true });
  const want = (() => {
    const o = handedOver(bridgeDriver.endpoint(web, e), e);
    if (o.kind !== 'veth') throw new Error('placed is a veth');
    return o.container;
  })();
  const eth0 = link(2, 'eth0', { mac: e.mac });
  const address = { linkIndex: 2, family: 4 as const, address: '10.1.0.2', prefixLength: 24 };
  const route = { family: 4 as const, destination: '0.0.0.0/0', gateway: '10.1.0.1', outIndex: 2, metric: 0, table: 254, protocol: 3, scope: 0 };
  it('is done once the interface is up with its addresses and (gateway endpoint) its default route', () => {
    expect(settled(want, eth0, { links: [eth0], addresses: [address], routes: [route] })).toBe(true);
  });
  it('is not done while it is down, unaddressed, or without the gateway route Docker adds last', () => {
    expect(settled(want, { ...eth0, up: false }, { links: [eth0], addresses: [address], routes: [route] })).toBe(false);
    expect(settled(want, eth0, { links: [eth0], addresses: [], routes: [route] })).toBe(false);
    expect(settled(want, eth0, { links: [eth0], addresses: [address], routes: [] })).toBe(false);
  });
});
