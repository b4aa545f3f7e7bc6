/** The agent's incremental path, pure parts: store keys, folding watch events, planning one endpoint's entries. */
import { describe, expect, it } from 'vitest';
import type { ClusterView } from '../../lib/drivers/types.js';
import { vxlanNameFor } from '../../lib/model/names.js';
import type { Endpoint } from '../../lib/model/types.js';
import { planRemoteEndpointChanges } from '../../lib/reconcile/plan-remote-endpoints.js';
import { foldEndpointEvents } from '../../lib/service/endpoint-events.js';
import { recordKeyOf } from '../../lib/state/repository.js';
import type { WatchEvent } from '../../lib/store/types.js';
import { endpoint, network } from './fixtures.js';

const ov = network({ name: 'ov', driver: 'overlay', ipv4: { subnet: '10.40.0.0/24', gateway: '10.40.0.1' }, mtu: 1450, overlay: { vni: 4242 } });
const br = network({ name: 'br', ipv4: { subnet: '10.41.0.0/24', gateway: '10.41.0.1' } });
const vx = vxlanNameFor(ov);
const on = (e: Endpoint, host: string): Endpoint => ({ ...e, host });
const a1 = on(endpoint(ov, '/run/netns/h1-a', '10.40.0.2'), 'h1');
const b2 = on(endpoint(ov, '/run/netns/h2-b', '10.40.0.3'), 'h2');
const c3 = on(endpoint(ov, '/run/netns/h3-c', '10.40.0.4'), 'h3');
const VTEP2 = '192.168.56.12';
const VTEP3 = '192.168.56.13';
const view: ClusterView = { self: { name: 'h1', vtep: '192.168.56.11' }, peers: new Map([['h2', VTEP2], ['h3', VTEP3]]), mode: 'store' };

const put = (e: Endpoint): WatchEvent => ({ type: 'put', key: `tnet/endpoints/${e.network}/${e.id}`, value: JSON.stringify(e), revision: '1' });
const del = (e: Endpoint): WatchEvent => ({ type: 'delete', key: `tnet/endpoints/${e.network}/${e.id}` });

describe('recordKeyOf', () => {
  it('tells endpoint records from reservations and from everything else', () => {
    expect(recordKeyOf('tnet/endpoints/ov/abc')).toEqual({ kind: 'endpoint', network: 'ov', id: 'abc' });
    expect(recordKeyOf('tnet/addresses/ov/10.40.0.2')).toEqual({ kind: 'reservation' });
    expect(recordKeyOf('tnet/vnis/4242')).toEqual({ kind: 'reservation' });
    for (const other of ['tnet/networks/ov', 'tnet/alive/h2', 'tnet/hosts/h2', 'tnet/peers', 'tnet/endpoints/ov', 'other/endpoints/ov/abc']) {
      expect(recordKeyOf(other), other).toEqual({ kind: 'other' });
    }
  });
});

describe('foldEndpointEvents', () => {
  it('gives each record its first known and last state, and the records known afterwards', () => {
    const moved = { ...b2, ipv4: '10.40.0.9' };
    const { endpoints, changes } = foldEndpointEvents([a1, b2], [put(c3), put(b2), put(moved), del(a1)]);
    expect(endpoints).toEqual([moved, c3]);
    expect(changes).toEqual([{ after: c3 }, { before: b2, after: moved }, { before: a1 }]);
  });

  it('forgets a record that came and went within the batch, and ignores other keys', () => {
    const other: WatchEvent = { type: 'put', key: 'tnet/addresses/ov/10.40.0.4', value: 'x', revision: '2' };
    expect(foldEndpointEvents([a1], [put(c3), other, del(c3)])).toEqual({ endpoints: [a1], changes: [] });
  });
});

describe('planRemoteEndpointChanges', () => {
  it('adds a new remote endpoint\'s FDB entry and neighbour, and removes them when it goes', () => {
    expect(planRemoteEndpointChanges([ov], view, [{ after: b2 }])).toEqual([
      { do: 'addFdb', link: vx, mac: b2.mac, dst: VTEP2 },
      { do: 'addNeighbour', link: vx, family: 4, address: '10.40.0.3', mac: b2.mac },
    ]);
    expect(planRemoteEndpointChanges([ov], view, [{ before: b2 }])).toEqual([
      { do: 'deleteFdb', link: vx, mac: b2.mac, dst: VTEP2 },
      { do: 'deleteNeighbour', link: vx, family: 4, address: '10.40.0.3' },
    ]);
  });

  it('deletes before it adds, so an address passed to another endpoint in one batch ends up on the new one', () => {
    const taker = { ...c3, ipv4: '10.40.0.3' };
    expect(planRemoteEndpointChanges([ov], view, [{ after: taker }, { before: b2 }])).toEqual([
      { do: 'deleteFdb', link: vx, mac: b2.mac, dst: VTEP2 },
      { do: 'deleteNeighbour', link: vx, family: 4, address: '10.40.0.3' },
      { do: 'addFdb', link: vx, mac: taker.mac, dst: VTEP3 },
      { do: 'addNeighbour', link: vx, family: 4, address: '10.40.0.3', mac: taker.mac },
    ]);
  });

  it('moves only what changed', () => {
    const unchanged = { ...b2, ports: [] };
    expect(planRemoteEndpointChanges([ov], view, [{ before: b2, after: unchanged }])).toEqual([]);
    const readdressed = { ...b2, ipv4: '10.40.0.9' };
    expect(planRemoteEndpointChanges([ov], view, [{ before: b2, after: readdressed }])).toEqual([
      { do: 'deleteNeighbour', link: vx, family: 4, address: '10.40.0.3' },
      { do: 'addNeighbour', link: vx, family: 4, address: '10.40.0.9', mac: b2.mac },
    ]);
  });

  it('moves the IPv6 neighbour entry of a dual-stack endpoint next to its IPv4 one', () => {
    const dual = network({ ...ov, ipv6: { subnet: 'fd74:6e65:7400::/64', gateway: 'fd74:6e65:7400::1' } });
    const b = { ...b2, ipv6: 'fd74:6e65:7400::3' };
    expect(planRemoteEndpointChanges([dual], view, [{ after: b }])).toEqual([
      { do: 'addFdb', link: vx, mac: b.mac, dst: VTEP2 },
      { do: 'addNeighbour', link: vx, family: 4, address: '10.40.0.3', mac: b.mac },
      { do: 'addNeighbour', link: vx, family: 6, address: 'fd74:6e65:7400::3', mac: b.mac },
    ]);
    expect(planRemoteEndpointChanges([dual], view, [{ before: b, after: { ...b, ipv6: 'fd74:6e65:7400::9' } }])).toEqual([
      { do: 'deleteNeighbour', link: vx, family: 6, address: 'fd74:6e65:7400::3' },
      { do: 'addNeighbour', link: vx, family: 6, address: 'fd74:6e65:7400::9', mac: b.mac },
    ]);
    expect(planRemoteEndpointChanges([dual], view, [{ before: b }])).toEqual([
      { do: 'deleteFdb', link: vx, mac: b.mac, dst: VTEP2 },
      { do: 'deleteNeighbour', link: vx, family: 4, address: '10.40.0.3' },
      { do: 'deleteNeighbour', link: vx, family: 6, address: 'fd74:6e65:7400::3' },
    ]);
  });

  it('has nothing to do for local endpoints, hosts that are not alive, bridge networks and static peers', () => {
    const down: ClusterView = { ...view, peers: new Map([['h3', VTEP3]]) };
    const staticPeers: ClusterView = { ...view, mode: 'static' };
    const bridged = on(endpoint(br, '/run/netns/h2-x', '10.41.0.2'), 'h2');
    expect(planRemoteEndpointChanges([ov], view, [{ after: a1 }])).toEqual([]);
    expect(planRemoteEndpointChanges([ov], down, [{ after: b2 }])).toEqual([]);
    expect(planRemoteEndpointChanges([ov, br], view, [{ after: bridged }])).toEqual([]);
    expect(planRemoteEndpointChanges([ov], staticPeers, [{ after: b2 }])).toEqual([]);
  });

  it('cannot tell for a network this host does not know yet', () => {
    expect(planRemoteEndpointChanges([br], view, [{ after: b2 }])).toBeUndefined();
  });
});
