/**
 * Drift repair from kernel events: each kind of damage a person or another program does to a
 * host, and the daemon putting it back. The periodic full pass is an hour away in these tests, so
 * whatever comes back came back from an event. Also: what is not ours stays untouched, CLI calls
 * are not fought, a gone namespace is reported (and re-attached when it returns), and a repair
 * that cannot be done backs off instead of looping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repairRole } from '../../lib/daemon/roles/repair.js';
import { bridgeNameFor, hostVethNameFor } from '../../lib/model/names.js';
import type { Endpoint, Network } from '../../lib/model/types.js';
import { startTestDaemon, waitFor, type TestDaemon } from '../helpers/daemon.js';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { addNetns, TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { inNetns, pingsWithin, sh, tryRun } from '../helpers/sh.js';

const PREFIX = `${TT}drp`;
let lab: LabHost;
let d: TestDaemon;
let web: Network;
let c1: Endpoint;
let c2: Endpoint;
let ns1: string;
let ns2: string;

interface IpLink { ifname: string; mtu: number; flags: string[]; master?: string; ifalias?: string }
const links = (ns: string): IpLink[] => JSON.parse(sh('ip', '-n', ns, '-j', 'link', 'show')) as IpLink[];
const linkIn = (ns: string, name: string): IpLink | undefined => links(ns).find((l) => l.ifname === name);
const addrs = (ns: string, dev: string): string[] =>
  (JSON.parse(sh('ip', '-n', ns, '-j', 'addr', 'show', 'dev', dev)) as Array<{ addr_info: Array<{ local: string; prefixlen: number; scope: string }> }>)
    .flatMap((l) => l.addr_info.filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`));
const defaultRoute = (ns: string): string => sh('ip', '-n', ns, 'route', 'show', 'default');
const nft = (...args: string[]): string => inNetns(lab.ns, 'nft', ...args);
const table = (): string => tryRun('ip', 'netns', 'exec', lab.ns, 'nft', 'list', 'table', 'inet', 'tnet').stdout;
const forwarding = (): string => inNetns(lab.ns, 'sysctl', '-n', 'net.ipv4.ip_forward').trim();

const bridge = (): string => bridgeNameFor(web);
const veth = (e: Endpoint): string => hostVethNameFor(e.id);
const attached = (e: Endpoint, ns: string): boolean =>
  linkIn(lab.ns, veth(e))?.master === bridge() && linkIn(ns, 'eth0')?.flags.includes('UP') === true && addrs(ns, 'eth0').includes(`${e.ipv4 ?? ''}/24`);
const come = (what: string, check: () => boolean): Promise<number> => waitFor(what, check, d.log);

beforeAll(async () => {
  lab = createLabHost(PREFIX);
  ns1 = lab.container('c1');
  ns2 = lab.container('c2');
  await lab.ok('create', '--subnet', '10.94.0.0/24', 'web');
  await lab.ok('connect', 'web', '--netns', ns1, '-p', '8080:80');
  await lab.ok('connect', 'web', '--netns', ns2);
  d = await startTestDaemon(lab, [repairRole]);
  web = await d.app.ctx.repo.requireNetwork('web');
  const endpoints = await d.app.ctx.repo.listEndpoints();
  [c1, c2] = ['c1', 'c2'].map((n) => {
    const found = endpoints.find((e) => e.netns.endsWith(`-${n}`));
    if (found === undefined) throw new Error(`no endpoint for ${n}`);
    return found;
  }) as [Endpoint, Endpoint];
  await d.idle();
}, 30_000);

afterAll(async () => {
  await d?.stop();
  lab?.destroy();
});

describe('the daemon puts back', () => {
  it('a deleted bridge, with its address and every port', async () => {
    sh('ip', '-n', lab.ns, 'link', 'del', bridge());
    await come('the bridge, its address and ports', () => addrs(lab.ns, bridge()).includes('10.94.0.1/24') && attached(c1, ns1) && attached(c2, ns2));
    expect(pingsWithin(ns1, c2.ipv4 ?? '')).toBe(true);
  });

  it('a deleted host veth, with the container side it took along', async () => {
    sh('ip', '-n', lab.ns, 'link', 'del', veth(c1));
    await come('c1 attached again', () => attached(c1, ns1) && defaultRoute(ns1).includes('via 10.94.0.1'));
  });

  it('a container interface\'s address, default route, MTU and state', async () => {
    sh('ip', '-n', ns1, 'addr', 'flush', 'dev', 'eth0');
    await come('the address', () => addrs(ns1, 'eth0').includes(`${c1.ipv4 ?? ''}/24`) && defaultRoute(ns1).includes('via 10.94.0.1'));
    sh('ip', '-n', ns1, 'route', 'del', 'default');
    await come('the default route', () => defaultRoute(ns1).includes('via 10.94.0.1'));
    sh('ip', '-n', ns1, 'link', 'set', 'eth0', 'mtu', '1400');
    await come('the MTU', () => linkIn(ns1, 'eth0')?.mtu === 1500);
    sh('ip', '-n', ns1, 'link', 'set', 'eth0', 'down');
    await come('the link up', () => attached(c1, ns1) && defaultRoute(ns1).includes('via 10.94.0.1'));
  });

  it('table inet tnet after nft flush ruleset, and a deleted rule, set element or map element', async () => {
    const whole = table();
    nft('flush', 'ruleset');
    await come('the table with its port element', () => table().includes('tcp . 8080'));
    const handle = /ct status dnat accept comment "[^"]*" # handle (\d+)/.exec(sh('ip', 'netns', 'exec', lab.ns, 'nft', '-a', 'list', 'chain', 'inet', 'tnet', 'forward'))?.[1] ?? '';
    nft('delete', 'rule', 'inet', 'tnet', 'forward', 'handle', handle);
    await come('the rule', () => table() === whole);
    nft('delete', 'element', 'inet', 'tnet', 'bridges', `{ ${bridge()} }`);
    await come('the bridges set element', () => table() === whole);
    nft('delete', 'element', 'inet', 'tnet', 'fwd4_any_addr', '{ tcp . 8080 }');
    await come('the map element', () => table() === whole);
  });

  it('ip_forward switched off', async () => {
    inNetns(lab.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=0');
    await come('forwarding on', () => forwarding() === '1');
  });
});

describe('the daemon', () => {
  it('never touches what is not tnet\'s', async () => {
    sh('ip', '-n', lab.ns, 'link', 'add', 'other0', 'type', 'bridge');
    nft('add', 'table', 'inet', 'other');
    nft('add', 'chain', 'inet', 'other', 'c', '{ type filter hook forward priority 10; }');
    nft('add', 'rule', 'inet', 'other', 'c', 'ip', 'saddr', '192.0.2.1', 'accept');
    const theirs = inNetns(lab.ns, 'nft', 'list', 'table', 'inet', 'other');
    nft('delete', 'table', 'inet', 'tnet');
    await come('table inet tnet', () => table().includes('tcp . 8080'));
    await d.idle();
    expect(inNetns(lab.ns, 'nft', 'list', 'table', 'inet', 'other')).toBe(theirs);
    expect(linkIn(lab.ns, 'other0')).toMatchObject({ ifname: 'other0' });
    nft('delete', 'table', 'inet', 'other');
    sh('ip', '-n', lab.ns, 'link', 'del', 'other0');
  });

  it('does not fight CLI calls: they change nothing it would repair', async () => {
    await d.idle();
    d.mark();
    const ns3 = lab.container('c3');
    for (let i = 0; i < 8; i++) {
      await lab.ok('connect', 'web', '--netns', ns3, ...(i % 2 === 0 ? ['-p', `${9000 + i}:80`] : []));
      await lab.ok('disconnect', 'web', '--netns', ns3);
    }
    await d.idle();
    expect(d.since().filter((l) => l.includes('repaired') || l.includes('failed')), d.since().join('\n')).toEqual([]);
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnv'))).toHaveLength(2);
  }, 60_000);

  it('reports a CLI endpoint whose namespace is gone, keeps its record, and attaches it again when it returns', async () => {
    sh('ip', 'netns', 'del', ns2);
    await come('its host veth gone (the daemon let go of the namespace)', () => linkIn(lab.ns, veth(c2)) === undefined);
    const status = () => (d.daemon.status()['roles'] as { repair: { goneEndpoints: string[] } }).repair.goneEndpoints;
    await come('reported as gone', () => status().some((g) => g.includes(`tnet disconnect web --netns ${c2.netns}`)));
    const inspected = JSON.parse(await lab.ok('inspect', 'web')) as Array<{ endpoints: Array<{ netns: string; problem?: string }> }>;
    expect(inspected[0]?.endpoints.find((e) => e.netns === c2.netns)?.problem).toContain('the namespace is gone');
    expect(d.log.filter((l) => l.includes('the namespace is gone')).length).toBe(1);
    addNetns(ns2);
    await come('attached again', () => attached(c2, ns2));
    expect(status()).toEqual([]);
  });

  it('backs off a repair it must refuse, saying so once per wait, and recovers', async () => {
    await d.idle();
    d.mark();
    // The bridge now claims another owner: tnet refuses to touch it (and so to repair anything).
    sh('ip', '-n', lab.ns, 'link', 'set', bridge(), 'alias', 'not-tnet');
    await new Promise((r) => setTimeout(r, 2_500));
    const failures = d.since().filter((l) => l.includes('repair of networks failed'));
    expect(failures, d.since().join('\n')).toHaveLength(2); // at once, then after 1 s; the next waits 2 s more
    expect(failures[0]).toContain('not created by tnet');
    expect((d.daemon.status()['repair'] as { waiting: Array<{ key: string }> }).waiting).toEqual([expect.objectContaining({ key: 'networks' })]);
    sh('ip', '-n', lab.ns, 'link', 'set', bridge(), 'alias', `tnet:${web.id.slice(0, 12)}`);
    await come('repairs working again', () => d.since().some((l) => l.includes('repair of networks works again')));
  }, 15_000);
});
