/**
 * The daemon on a cluster host (repair and agent roles, etcd on loopback, "h2" only records in the
 * store): a remote endpoint's FDB and neighbour entries and the VXLAN device come back when
 * deleted, and once etcd is gone the daemon keeps repairing from the records it last read, and
 * says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentRole } from '../../lib/daemon/roles/agent.js';
import { repairRole } from '../../lib/daemon/roles/repair.js';
import { endpointIdFor, macFor, vxlanNameFor } from '../../lib/model/names.js';
import type { Endpoint, Network } from '../../lib/model/types.js';
import { createHostRegistry } from '../../lib/state/hosts.js';
import type { LeasedKey } from '../../lib/store/types.js';
import { startTestDaemon, waitFor, type TestDaemon } from '../helpers/daemon.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';
import { HOST_UPLINK_V4, createLabHost, type LabHost } from '../helpers/lab-host.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { sh } from '../helpers/sh.js';

const PREFIX = `${TT}dov${process.pid % 10000}`;
const H2_VTEP = '203.0.113.2';
let lab: LabHost;
let etcd: TestEtcd | undefined;
let d: TestDaemon;
let h2Lease: LeasedKey | undefined;
let ov: Network;
let remote: Endpoint;
let local: string;

const fdb = (): string => sh('bridge', '-n', lab.ns, 'fdb', 'show', 'dev', vxlanNameFor(ov));
const neighbours = (): string => sh('ip', '-n', lab.ns, 'neigh', 'show', 'dev', vxlanNameFor(ov), 'nud', 'permanent');
const entries = (): boolean => fdb().includes(`${remote.mac} dst ${H2_VTEP} self permanent`) && neighbours().includes(`${remote.ipv4 ?? ''} lladdr ${remote.mac} PERMANENT`);
const come = (what: string, check: () => boolean): Promise<number> => waitFor(what, check, d.log);

beforeAll(async () => {
  lab = createLabHost(PREFIX);
  etcd = await startEtcd();
  const storeUrl = `etcd://${etcd.endpoints[0]?.replace('http://', '')}/${PREFIX}`;
  const s = ['--store', storeUrl];
  await lab.ok(...s, 'host', 'join', '--vtep', HOST_UPLINK_V4, '--name', 'h1');
  await lab.ok(...s, 'create', '--driver', 'overlay', '--subnet', '10.83.0.0/24', '--vni', '311', 'ov');
  local = lab.container('c1');
  await lab.ok(...s, 'connect', 'ov', '--netns', local);
  d = await startTestDaemon(lab, [repairRole, agentRole], { storeUrl });
  ov = await d.app.ctx.repo.requireNetwork('ov');
  const registry = createHostRegistry(d.app.ctx.repo.store);
  const h2 = { name: 'h2', vtep: H2_VTEP, joined: new Date().toISOString() };
  await registry.join(h2);
  h2Lease = await registry.keepAlive(h2, 60, () => undefined);
  const netns = '/run/netns/h2-r';
  const id = endpointIdFor(ov.id, netns, 'eth0');
  remote = { id, network: 'ov', netns, ifname: 'eth0', ipv4: '10.83.0.50', mac: macFor(id), aliases: [], routeMetric: 100, owner: { kind: 'cli' }, host: 'h2' };
  await d.app.ctx.repo.addEndpoint(remote);
}, 30_000);

afterAll(async () => {
  await h2Lease?.close().catch(() => undefined);
  await d?.stop();
  lab?.destroy();
  await etcd?.stop();
});

describe('the daemon on a cluster host', () => {
  it('programs another host\'s endpoint and puts back its FDB and neighbour entries and the VXLAN device', async () => {
    await come('the remote endpoint\'s entries', entries);
    sh('bridge', '-n', lab.ns, 'fdb', 'del', remote.mac, 'dev', vxlanNameFor(ov), 'dst', H2_VTEP, 'self');
    await come('the FDB entry', entries);
    sh('ip', '-n', lab.ns, 'neigh', 'del', remote.ipv4 ?? '', 'dev', vxlanNameFor(ov));
    await come('the neighbour entry', entries);
    sh('ip', '-n', lab.ns, 'link', 'del', vxlanNameFor(ov));
    await come('the VXLAN device and its entries', entries);
  });

  it('after a pass from the records last read (etcd not answering), reads the store again by itself once etcd answers', async () => {
    etcd?.pause();
    try {
      sh('ip', '-n', lab.ns, 'neigh', 'del', remote.ipv4 ?? '', 'dev', vxlanNameFor(ov));
      // The pass waits STORE_READ_TIMEOUT_MS (3 s) for etcd first; a loaded machine adds its share.
      await waitFor('the neighbour entry, while etcd does not answer', entries, d.log, 15_000);
      await waitFor('the store seen unreachable', () => d.log.some((l) => l.includes('store unreachable')), d.log);
      // The echoes of that repair are handled (from the records last read, too) before etcd answers again.
      await d.idle();
      await new Promise((r) => setTimeout(r, 1_000));
      await d.idle();
    } finally {
      etcd?.resume();
    }
    // No event follows: the daemon itself must try the store again.
    await waitFor('the store read again', () => d.log.some((l) => l.includes('store reachable again')), d.log, 10_000);
    expect((d.daemon.status()['repair'] as { store: { reachable: boolean } }).store.reachable).toBe(true);
  }, 30_000);

  it('keeps repairing from the records it last read once etcd is gone, and says so', async () => {
    await h2Lease?.close();
    h2Lease = undefined;
    await etcd?.stop();
    etcd = undefined;
    await come('the entries before the damage', entries);
    sh('ip', '-n', lab.ns, 'neigh', 'del', remote.ipv4 ?? '', 'dev', vxlanNameFor(ov));
    await come('the neighbour entry, without etcd', entries);
    sh('ip', '-n', local, 'addr', 'flush', 'dev', 'eth0');
    await come('the local container\'s address', () => sh('ip', '-n', local, '-4', 'addr', 'show', 'dev', 'eth0').includes('10.83.0.'));
    expect(d.log.filter((l) => l.includes('store unreachable'))).toHaveLength(2);
    const repair = d.daemon.status()['repair'] as { store: { reachable: boolean }; recent: Array<{ fromKnownRecords?: boolean }> };
    expect(repair.store.reachable).toBe(false);
    expect(repair.recent.at(-1)?.fromKnownRecords).toBe(true);
  }, 20_000);
});
