/**
 * The agent applies another host's connect and disconnect incrementally: the endpoint's FDB and
 * neighbour entries appear and go on this host without the agent reading the store again (no
 * level pass), and with the periodic resync an hour away, so nothing else could have put them
 * there. The network is dual-stack, so each endpoint brings an IPv4 and an IPv6 neighbour entry.
 * One lab host, the daemon's agent role in-process, single-member etcd on loopback; "h2" exists only as records in
 * the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type App } from '../../lib/app.js';
import { endpointIdFor, macFor, vxlanNameFor } from '../../lib/model/names.js';
import type { Endpoint, Network } from '../../lib/model/types.js';
import { startDaemon, type StartedDaemon } from '../../lib/daemon/daemon.js';
import { agentRole } from '../../lib/daemon/roles/agent.js';
import type { ServiceContext } from '../../lib/service/context.js';
import { createHostRegistry } from '../../lib/state/hosts.js';
import { createRepository } from '../../lib/state/repository.js';
import type { LeasedKey, Store } from '../../lib/store/types.js';
import { UNUSED_DNS } from '../helpers/daemon.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';
import { HOST_UPLINK_V4, createLabHost, type LabHost } from '../helpers/lab-host.js';
import { sh } from '../helpers/sh.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

const PREFIX = `${TT}cv${process.pid % 10000}`;
const H2_VTEP = '203.0.113.2';

/** The store with a count of its reads: a level pass always lists, the incremental path never reads. */
const countingReads = (store: Store): { store: Store; reads: () => number; reset: () => void } => {
  let reads = 0;
  return {
    store: {
      ...store,
      get: (key) => (reads++, store.get(key)),
      list: (prefix) => (reads++, store.list(prefix)),
    },
    reads: () => reads,
    reset: () => (reads = 0),
  };
};

const waitFor = async (what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> => {
  for (const deadline = Date.now() + timeoutMs; !check(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
};

let lab: LabHost;
let etcd: TestEtcd;
let app: App;
let h2Lease: LeasedKey | undefined;
let agent: StartedDaemon | undefined;
const agentLog: string[] = [];
let counted: ReturnType<typeof countingReads>;
let ctx: ServiceContext;
let network: Network;

beforeAll(async () => {
  lab = createLabHost(PREFIX);
  etcd = await startEtcd();
  const storeUrl = `etcd://${etcd.endpoints[0]?.replace('http://', '')}/${PREFIX}-${process.pid}`;
  const s = ['--store', storeUrl];
  await lab.ok(...s, 'host', 'join', '--vtep', HOST_UPLINK_V4, '--name', 'h1');
  await lab.ok(...s, 'create', '--driver', 'overlay', '--subnet', '10.82.0.0/24', '--ipv6', '--subnet', 'fd00:82::/64', '--vni', '310', 'ov');
  app = await openApp({ stateDir: lab.stateDir, storeUrl, hostNetns: lab.ns });
  counted = countingReads(app.ctx.repo.store);
  ctx = { ...app.ctx, repo: createRepository(counted.store, () => 'host/h1') };
  network = (await ctx.repo.requireNetwork('ov'));
  const registry = createHostRegistry(ctx.repo.store);
  const h2 = { name: 'h2', vtep: H2_VTEP, joined: new Date().toISOString() };
  await registry.join(h2);
  h2Lease = await registry.keepAlive(h2, 60, () => undefined);
  // The agent role alone: drift repair would read the store on every endpoint change.
  agent = await startDaemon({
    roles: [agentRole],
    ctx,
    log: (l) => agentLog.push(l),
    options: { stateDir: lab.stateDir, storeUrl, resyncMs: 3_600_000, leaseTtlSeconds: 60, cniSocket: '', dockerSocket: '', dockerHost: '', dns: UNUSED_DNS, env: {} },
  });
}, 30_000);

afterAll(async () => {
  await agent?.stop();
  await h2Lease?.close();
  await app?.close();
  lab?.destroy();
  await etcd?.stop();
});

const remote = (name: string, ipv4: string, ipv6: string): Endpoint => {
  const netns = `/run/netns/h2-${name}`;
  const id = endpointIdFor(network.id, netns, 'eth0');
  return { id, network: 'ov', netns, ifname: 'eth0', ipv4, ipv6, mac: macFor(id), aliases: [], routeMetric: 100, owner: { kind: 'cli' }, host: 'h2' };
};

const fdb = (): string => sh('bridge', '-n', lab.ns, 'fdb', 'show', 'dev', vxlanNameFor(network));
const neighbours = (): string => sh('ip', '-n', lab.ns, 'neigh', 'show', 'dev', vxlanNameFor(network), 'nud', 'permanent');
const addressesOf = (e: Endpoint): string[] => [e.ipv4 ?? '', e.ipv6 ?? ''];
const hasEntries = (e: Endpoint): boolean => {
  const neigh = neighbours();
  return fdb().includes(`${e.mac} dst ${H2_VTEP} self permanent`) && addressesOf(e).every((a) => neigh.includes(`${a} lladdr ${e.mac} PERMANENT`));
};
const hasNone = (e: Endpoint): boolean => {
  const neigh = neighbours();
  return !fdb().includes(e.mac) && addressesOf(e).every((a) => !neigh.includes(`${a} `));
};

describe('the agent and another host\'s endpoints', () => {
  it('programs a remote endpoint that was recorded before it looked (its first, full pass)', async () => {
    const first = remote('first', '10.82.0.10', 'fd00:82::10');
    await ctx.repo.addEndpoint(first);
    await waitFor('the first endpoint\'s entries', () => hasEntries(first));
  });

  it('adds and removes a remote endpoint\'s entries from the watch alone, without reading the store', async () => {
    // Whatever the first pass left queued (its own endpoint's event) is done by now.
    await new Promise((r) => setTimeout(r, 300));
    counted.reset();
    const e = remote('b', '10.82.0.11', 'fd00:82::11');
    await ctx.repo.addEndpoint(e);
    await waitFor('the new endpoint\'s entries', () => hasEntries(e));
    await ctx.repo.forget({ endpoints: [e] });
    await waitFor('the entries to go', () => hasNone(e));
    // The agent logs a round after programming it, so the entries can go before its second line.
    // Each way: the FDB entry and the IPv4 and IPv6 neighbour entries.
    await waitFor('the agent to log both rounds', () => agentLog.filter((l) => l.startsWith('agent: update: 3 change(s)')).length === 2);
    // addEndpoint and forget write without reading: every read would be the agent's.
    expect(counted.reads(), `the agent read the store; its log:\n${agentLog.join('\n')}`).toBe(0);
  });
});
