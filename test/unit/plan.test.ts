import { describe, expect, it } from 'vitest';
import { signatureOf } from '../../lib/firewall/encode.js';
import { renderFirewall } from '../../lib/firewall/render.js';
import type { LinkState } from '../../lib/kernel/types.js';
import { bridgeMacFor, bridgeNameFor, hostVethNameFor, ownerAlias, TNET_LINK_GROUP } from '../../lib/model/names.js';
import { desiredHost } from '../../lib/reconcile/desired.js';
import type { ObservedEndpoint, ObservedHost, ObservedNamespace } from '../../lib/reconcile/observed.js';
import { planHost } from '../../lib/reconcile/plan.js';
import { bridgeDriver } from '../../lib/drivers/bridge.js';
import { endpoint, network } from './fixtures.js';

const web = network({ name: 'web' });
const c1 = endpoint(web, '/run/netns/c1', '10.1.0.2');
const desired = desiredHost([web], [c1]);
const bridge = bridgeNameFor(web);
const veth = hostVethNameFor(c1.id);

const link = (index: number, name: string, extra: Partial<LinkState> = {}): LinkState => ({
  index, name, mtu: 1500, up: true, mac: `02:00:00:00:00:${index.toString(16).padStart(2, '0')}`, ...extra,
});

/** The kernel exactly as a successful pass leaves it. */
const converged = (): { host: ObservedNamespace; container: ObservedNamespace } => ({
  host: {
    links: [
      link(1, 'lo'),
      link(10, bridge, { kind: 'bridge', mac: bridgeMacFor(web.id), alias: ownerAlias(web.id), group: TNET_LINK_GROUP }),
      link(11, veth, { kind: 'veth', alias: ownerAlias(web.id, c1.id), masterIndex: 10, hairpin: true, group: TNET_LINK_GROUP }),
    ],
    addresses: [{ linkIndex: 10, family: 4, address: '10.1.0.1', prefixLength: 24 }],
    routes: [],
  },
  container: {
    links: [link(1, 'lo'), link(2, 'eth0', { kind: 'veth', mac: c1.mac })],
    addresses: [{ linkIndex: 2, family: 4, address: '10.1.0.2', prefixLength: 24 }],
    routes: [{ family: 4, destination: '0.0.0.0/0', gateway: '10.1.0.1', outIndex: 2, metric: 100, table: 254, protocol: 3, scope: 0 }],
  },
});

const CONVERGED_FIREWALL = signatureOf(renderFirewall([bridgeDriver.network(web).firewall!])!);

const observed = (host: ObservedNamespace, container?: ObservedEndpoint, firewall: string | undefined = CONVERGED_FIREWALL): ObservedHost => ({
  host,
  sysctls: new Map([['net/ipv4/ip_forward', '1'], [`net/ipv4/conf/${bridge}/route_localnet`, '1']]),
  firewall,
  endpoints: new Map(container ? [[c1.id, container]] : []),
});

const kinds = (actions: readonly { do: string }[]): string[] => actions.map((a) => a.do);

describe('planner', () => {
  it('plans nothing when the kernel matches (a second pass is a no-op)', () => {
    const k = converged();
    const plan = planHost(desired, observed(k.host, { state: 'present', ns: k.container }));
    expect(plan.actions).toEqual([]);
    expect(plan.problems).toEqual([]);
  });

  it('creates everything on an empty host, parents first and the firewall last', () => {
    const plan = planHost(desired, { ...observed({ links: [link(1, 'lo')], addresses: [], routes: [] }, { state: 'present', ns: { links: [link(1, 'lo', { up: false })], addresses: [], routes: [] } }), firewall: undefined, sysctls: new Map() });
    expect(kinds(plan.actions)).toEqual([
      'createBridge', 'addAddress', 'setSysctl', 'setSysctl',
      'createVeth', 'setLink', 'setLink', 'addAddress', 'addRoute',
      'replaceFirewall',
    ]);
  });

  it('recreates a veth deleted by hand and looks inside the container for it', () => {
    const k = converged();
    const host = { ...k.host, links: k.host.links.filter((l) => l.name !== veth) };
    const plan = planHost(desired, observed(host, { state: 'present', ns: { ...k.container, links: [link(1, 'lo')] } }));
    expect(kinds(plan.actions)).toEqual(['createVeth', 'setLink', 'setLink', 'addAddress', 'addRoute']);
  });

  it('restores a container address and route removed by hand, and removes an address tnet did not ask for', () => {
    const k = converged();
    const container = { ...k.container, addresses: [{ linkIndex: 2, family: 4 as const, address: '10.1.0.99', prefixLength: 24 }], routes: [] };
    const plan = planHost(desired, observed(k.host, { state: 'present', ns: container }));
    expect(plan.actions).toEqual([
      { do: 'addAddress', netns: '/run/netns/c1', link: 'eth0', address: { family: 4, address: '10.1.0.2', prefixLength: 24 } },
      { do: 'deleteAddress', netns: '/run/netns/c1', link: 'eth0', address: { family: 4, address: '10.1.0.99', prefixLength: 24 } },
      { do: 'addRoute', netns: '/run/netns/c1', link: 'eth0', route: { family: 4, destination: '0.0.0.0/0', gateway: '10.1.0.1', metric: 100 } },
    ]);
  });

  it('gives the bridge its fixed MAC back when it changed (it must never follow its ports)', () => {
    const k = converged();
    const host = { ...k.host, links: k.host.links.map((l) => (l.name === bridge ? { ...l, mac: '02:00:00:00:00:01' } : l)) };
    const plan = planHost(desired, observed(host, { state: 'present', ns: k.container }));
    expect(plan.actions).toEqual([{ do: 'setLink', link: bridge, change: { mac: bridgeMacFor(web.id) } }]);
  });

  it('rewrites the firewall when our table was flushed or edited', () => {
    const k = converged();
    expect(kinds(planHost(desired, { ...observed(k.host), firewall: undefined }).actions)).toEqual(['replaceFirewall']);
    expect(kinds(planHost(desired, observed(k.host, undefined, '{"rules":[]}')).actions)).toEqual(['replaceFirewall']);
  });

  it('deletes our links that are no longer wanted, endpoints before bridges, and the table last', () => {
    const k = converged();
    const plan = planHost([], observed(k.host));
    expect(plan.actions).toEqual([{ do: 'deleteLink', link: veth }, { do: 'deleteLink', link: bridge }, { do: 'deleteFirewall' }]);
  });

  it('never touches a link it did not create: a foreign link with our name is a problem', () => {
    const k = converged();
    const host = { ...k.host, links: [link(1, 'lo'), link(10, bridge, { kind: 'bridge', mac: bridgeMacFor(web.id) })] };
    const plan = planHost(desired, observed(host));
    expect(plan.problems.join()).toMatch(new RegExp(`${bridge} already exists and was not created by tnet`));
    expect(plan.actions.some((a) => 'link' in a && a.link === bridge)).toBe(false);
  });

  it('refuses to take an interface name that a foreign link already has in the container', () => {
    const k = converged();
    const host = { ...k.host, links: k.host.links.filter((l) => l.name !== veth) };
    const container = { ...k.container, links: [link(1, 'lo'), link(5, 'eth0', { kind: 'veth' })] };
    const plan = planHost(desired, observed(host, { state: 'present', ns: container }));
    expect(plan.problems.join()).toMatch(/already has an interface named eth0/);
  });

  it('notes a container whose namespace is gone instead of failing', () => {
    const k = converged();
    const plan = planHost(desired, observed(k.host, { state: 'netnsGone' }));
    expect(plan.actions).toEqual([]);
    expect(plan.notes.join()).toMatch(/namespace \/run\/netns\/c1 is gone/);
  });

  it('gives an internal network no default route and no forwarding sysctl', () => {
    const internal = network({ name: 'priv', internal: true });
    const [d] = desiredHost([internal], [endpoint(internal, '/run/netns/c9', '10.1.0.2')]);
    expect(d?.objects.sysctls).toEqual([]);
    const e = d?.endpoints[0]?.objects;
    expect(e?.kind === 'veth' && e.container.routes).toEqual([]);
  });
});

describe('planner, bridge recreated', () => {
  it('enslaves existing veths again to a bridge that is recreated in the same pass', () => {
    const k = converged();
    const host = { ...k.host, links: k.host.links.filter((l) => l.name !== bridge).map(({ masterIndex: _gone, ...l }): LinkState => l) };
    const plan = planHost(desired, observed(host));
    expect(plan.actions).toContainEqual({ do: 'setLink', link: veth, change: { master: bridge, hairpin: true } });
    expect(kinds(plan.actions).indexOf('createBridge')).toBeLessThan(plan.actions.findIndex((a) => a.do === 'setLink' && 'link' in a && a.link === veth));
  });
});

describe('planner, links left by a process killed between creating and tagging them', () => {
  const untagged = (l: LinkState): LinkState => {
    const { alias: _none, ...rest } = l;
    return { ...rest, up: false, hairpin: false };
  };

  it('tags and finishes a wanted link born in our group, instead of refusing it', () => {
    const k = converged();
    const host = { ...k.host, links: k.host.links.map((l) => (l.name === veth ? untagged(l) : l)) };
    const plan = planHost(desired, observed(host, { state: 'present', ns: k.container }));
    expect(plan.problems).toEqual([]);
    expect(plan.actions).toEqual([
      { do: 'tagLink', link: veth, alias: ownerAlias(web.id, c1.id), noIpv6LinkLocal: true },
      { do: 'setLink', link: veth, change: { up: true, hairpin: true } },
    ]);
  });

  it('tags an untagged bridge of ours and brings it up', () => {
    const k = converged();
    const host = { ...k.host, links: k.host.links.map((l) => (l.name === bridge ? untagged(l) : l)) };
    const plan = planHost(desired, observed(host, { state: 'present', ns: k.container }));
    expect(plan.actions).toEqual([
      { do: 'tagLink', link: bridge, alias: ownerAlias(web.id), noIpv6LinkLocal: false },
      { do: 'setLink', link: bridge, change: { up: true } },
    ]);
  });

  it('deletes an untagged link of ours that nothing wants, veths before bridges', () => {
    const k = converged();
    const plan = planHost([], observed({ ...k.host, links: k.host.links.map((l) => (l.name === 'lo' ? l : untagged(l))) }));
    expect(plan.actions).toEqual([{ do: 'deleteLink', link: veth }, { do: 'deleteLink', link: bridge }, { do: 'deleteFirewall' }]);
  });

  it('still refuses an untagged link outside our group, even with one of our names', () => {
    const k = converged();
    const { group: _mine, ...foreign } = untagged(k.host.links.find((l) => l.name === veth)!);
    const host = { ...k.host, links: k.host.links.map((l) => (l.name === veth ? foreign : l)) };
    expect(planHost(desired, observed(host, { state: 'present', ns: k.container })).problems.join()).toMatch(/already exists and was not created by tnet/);
    expect(kinds(planHost([], observed({ ...host, links: [link(1, 'lo'), foreign] })).actions)).toEqual(['deleteFirewall']);
  });

  it('turns hairpin mode back on for a port that lost it', () => {
    const k = converged();
    const host = { ...k.host, links: k.host.links.map((l) => (l.name === veth ? { ...l, hairpin: false } : l)) };
    expect(planHost(desired, observed(host, { state: 'present', ns: k.container })).actions).toEqual([{ do: 'setLink', link: veth, change: { hairpin: true } }]);
  });
});
