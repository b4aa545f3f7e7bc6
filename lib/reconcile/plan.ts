/**
 * The planner: desired state + observed kernel state -> ordered actions. Pure, so every drift
 * case is a unit test. Order: parents before children on create (bridge, then veths, then what
 * lives on them), children before parents on delete, firewall last (one atomic transaction).
 * It never plans a change to a link that does not carry our owner tag; such a clash is a problem.
 */
import type { DesiredAddress, DesiredBridge, EndpointObjects, HostVeth } from '../drivers/types.js';
import { signatureOf } from '../firewall/encode.js';
import { renderFirewall } from '../firewall/render.js';
import type { LinkState } from '../kernel/types.js';
import type { Action } from './actions.js';
import { isEndpointLink, isOurs, isUntaggedOurs } from './ownership.js';
import { hostLinkNames, type DesiredNetwork } from './desired.js';
import type { PortForward } from '../firewall/forwards.js';
import type { Scope } from './observe.js';
import { planForwards } from './plan-forwards.js';
import type { ObservedEndpoint, ObservedHost, ObservedNamespace } from './observed.js';
import { planVxlan } from './plan-overlay.js';

export interface Plan {
  readonly actions: readonly Action[];
  /** Clashes with objects tnet does not own; the pass must not run while there are any. */
  readonly problems: readonly string[];
  /** Things worth saying that need no action (e.g. a container namespace that is gone). */
  readonly notes: readonly string[];
}

const isLinkLocal = (address: string): boolean => address.toLowerCase().startsWith('fe80:');
const sameAddress = (a: DesiredAddress, b: { family: number; address: string; prefixLength: number }): boolean =>
  a.family === b.family && a.address === b.address && a.prefixLength === b.prefixLength;

class Planner {
  readonly actions: Action[] = [];
  readonly problems: string[] = [];
  readonly notes: string[] = [];

  /** Addresses on a link: adds the missing ones, removes the ones tnet did not ask for. */
  addresses(ns: ObservedNamespace, link: LinkState, want: readonly DesiredAddress[], netns?: string): void {
    const have = ns.addresses.filter((a) => a.linkIndex === link.index && !isLinkLocal(a.address));
    for (const a of want) {
      if (!have.some((h) => sameAddress(a, h))) this.actions.push({ do: 'addAddress', link: link.name, address: a, ...at(netns) });
    }
    for (const h of have) {
      if (!want.some((a) => sameAddress(a, h))) {
        const address = { family: h.family, address: h.address, prefixLength: h.prefixLength };
        this.actions.push({ do: 'deleteAddress', link: link.name, address, ...at(netns) });
      }
    }
  }

  bridge(host: ObservedNamespace, want: DesiredBridge): void {
    const link = host.links.find((l) => l.name === want.name);
    if (!link) {
      this.actions.push({ do: 'createBridge', name: want.name, mtu: want.mtu, mac: want.mac, alias: want.alias });
      for (const address of want.addresses) this.actions.push({ do: 'addAddress', link: want.name, address });
      return;
    }
    if (isUntaggedOurs(link) && link.kind === 'bridge') this.actions.push({ do: 'tagLink', link: link.name, alias: want.alias, noIpv6LinkLocal: false });
    else if (link.alias !== want.alias || link.kind !== 'bridge') {
      this.problems.push(`link ${want.name} already exists and was not created by tnet for this network; choose another bridge name`);
      return;
    }
    if (link.mtu !== want.mtu) this.actions.push({ do: 'setLink', link: link.name, change: { mtu: want.mtu } });
    if (link.mac !== want.mac) this.actions.push({ do: 'setLink', link: link.name, change: { mac: want.mac } });
    if (!link.up) this.actions.push({ do: 'setLink', link: link.name, change: { up: true } });
    this.addresses(host, link, want.addresses);
  }

  endpoint(host: ObservedNamespace, label: string, want: EndpointObjects, seen: ObservedEndpoint): void {
    if (want.kind === 'shareHost' || seen.state === 'outOfScope') return;
    if (want.kind === 'handedVeth') return this.handedVeth(host, label, want);
    if (seen.state === 'netnsGone') {
      this.notes.push(`endpoint ${label}: namespace ${want.netns} is gone; disconnect it to free its address`);
      return;
    }
    if (want.kind === 'loopbackOnly') {
      if (seen.state === 'present') this.loopbackUp(seen.ns, want.netns);
      return;
    }
    const hostLink = this.ownHostVeth(host, label, want.hostVeth);
    if (hostLink === null) return;
    const peer = seen.state === 'present' ? seen.ns.links.find((l) => l.name === want.container.ifname) : undefined;
    if (!hostLink || (seen.state === 'present' && !peer)) {
      if (peer) {
        this.problems.push(`namespace ${want.netns} already has an interface named ${peer.name} that tnet did not create; choose another --ifname`);
        return;
      }
      if (hostLink) this.actions.push({ do: 'deleteLink', link: hostLink.name }); // its peer went missing
      this.createVeth(want);
      return;
    }
    this.hostVeth(host, hostLink, want.hostVeth);
    if (seen.state === 'present' && peer) this.container(seen.ns, peer, want);
  }

  /**
   * The host veth, if present and ours (tagged now when its tagging was interrupted); undefined
   * when absent; null when the name is someone else's (a problem).
   */
  private ownHostVeth(host: ObservedNamespace, label: string, want: HostVeth): LinkState | undefined | null {
    const hostLink = host.links.find((l) => l.name === want.name);
    if (hostLink && isUntaggedOurs(hostLink) && hostLink.kind === 'veth') {
      this.actions.push({ do: 'tagLink', link: hostLink.name, alias: want.alias, noIpv6LinkLocal: true });
    } else if (hostLink && hostLink.alias !== want.alias) {
      this.problems.push(`link ${hostLink.name} already exists and was not created by tnet for endpoint ${label}`);
      return null;
    }
    return hostLink;
  }

  /** A present host veth: on its bridge, with its MTU, up, hairpin on. */
  private hostVeth(host: ObservedNamespace, hostLink: LinkState, want: HostVeth): void {
    const bridge = host.links.find((l) => l.name === want.master);
    // A bridge recreated in this pass has a new index: its ports must be enslaved again.
    // Hairpin: a container reaching its own published port via a host address gets the answer
    // back through its own bridge port (br_netfilter bridges DNATed frames).
    const enslave = !bridge || hostLink.masterIndex !== bridge.index;
    if (enslave) this.actions.push({ do: 'setLink', link: hostLink.name, change: { master: want.master, hairpin: true } });
    if (hostLink.mtu !== want.mtu) this.actions.push({ do: 'setLink', link: hostLink.name, change: { mtu: want.mtu } });
    const hairpin = !enslave && hostLink.hairpin !== true;
    if (!hostLink.up || hairpin) this.actions.push({ do: 'setLink', link: hostLink.name, change: { ...(hostLink.up ? {} : { up: true }), ...(hairpin ? { hairpin: true } : {}) } });
  }

  /**
   * An endpoint the runtime places itself. Parked, the container side is made (or made again) in
   * the host namespace, down and bare, for the runtime to take; while the runtime has it, only
   * the host side is tnet's, and a pair that is gone is not rebuilt behind the runtime's back.
   */
  private handedVeth(host: ObservedNamespace, label: string, want: Extract<EndpointObjects, { kind: 'handedVeth' }>): void {
    const hostLink = this.ownHostVeth(host, label, want.hostVeth);
    if (hostLink === null) return;
    const { parked } = want;
    const parkedLink = parked && host.links.find((l) => l.name === parked.name);
    if (parked && (!hostLink || !parkedLink)) {
      if (parkedLink) {
        this.problems.push(`link ${parkedLink.name} already exists in the host namespace and was not created by tnet for endpoint ${label}`);
        return;
      }
      if (hostLink) this.actions.push({ do: 'deleteLink', link: hostLink.name }); // its peer went elsewhere
      const { hostVeth } = want;
      this.actions.push({ do: 'createVeth', name: hostVeth.name, mtu: hostVeth.mtu, alias: hostVeth.alias, master: hostVeth.master, netns: parked.netns, peer: { name: parked.name, mac: parked.mac, mtu: parked.mtu } });
      return;
    }
    if (!hostLink) {
      this.notes.push(`endpoint ${label}: its veth is gone while the runtime moves it; the runtime's next call for it decides`);
      return;
    }
    this.hostVeth(host, hostLink, want.hostVeth);
  }

  private createVeth(want: Extract<EndpointObjects, { kind: 'veth' }>): void {
    const { hostVeth, container, netns } = want;
    this.actions.push({
      do: 'createVeth', name: hostVeth.name, mtu: hostVeth.mtu, alias: hostVeth.alias, master: hostVeth.master, netns,
      peer: { name: container.ifname, mac: container.mac, mtu: container.mtu },
    });
    this.actions.push({ do: 'setLink', netns, link: 'lo', change: { up: true } });
    this.actions.push({ do: 'setLink', netns, link: container.ifname, change: { up: true } });
    for (const address of container.addresses) this.actions.push({ do: 'addAddress', netns, link: container.ifname, address });
    for (const route of container.routes) this.actions.push({ do: 'addRoute', netns, link: container.ifname, route });
  }

  private container(ns: ObservedNamespace, peer: LinkState, want: Extract<EndpointObjects, { kind: 'veth' }>): void {
    const { container, netns } = want;
    this.loopbackUp(ns, netns);
    if (peer.mac !== container.mac) this.actions.push({ do: 'setLink', netns, link: peer.name, change: { mac: container.mac } });
    if (peer.mtu !== container.mtu) this.actions.push({ do: 'setLink', netns, link: peer.name, change: { mtu: container.mtu } });
    if (!peer.up) this.actions.push({ do: 'setLink', netns, link: peer.name, change: { up: true } });
    this.addresses(ns, peer, container.addresses, netns);
    for (const route of container.routes) {
      const same = ns.routes.filter((r) => r.destination === route.destination && (r.metric ?? 0) === route.metric);
      if (same.some((r) => r.gateway === route.gateway && r.outIndex === peer.index)) continue;
      if (container.runtimeRoutes === true && same.some((r) => r.outIndex !== peer.index)) continue;
      this.actions.push({ do: 'addRoute', netns, link: peer.name, route });
    }
  }

  private loopbackUp(ns: ObservedNamespace, netns: string): void {
    const lo = ns.links.find((l) => l.name === 'lo');
    if (lo && !lo.up) this.actions.push({ do: 'setLink', netns, link: 'lo', change: { up: true } });
  }
}

const at = (netns: string | undefined): { netns?: string } => (netns === undefined ? {} : { netns });

export const planHost = (
  desired: readonly DesiredNetwork[],
  observed: ObservedHost,
  scope: Scope = 'all',
  released: readonly PortForward[] = [],
): Plan => {
  const p = new Planner();
  const wanted = new Set(hostLinkNames(desired));
  // Ours but no longer wanted, first so their names are free: endpoints' veths before bridges.
  const stale = observed.host.links.filter((l) => isOurs(l) && !wanted.has(l.name));
  for (const l of [...stale.filter(isEndpointLink), ...stale.filter((l) => !isEndpointLink(l))]) {
    p.actions.push({ do: 'deleteLink', link: l.name });
  }
  for (const { objects } of desired) if (objects.bridge) p.bridge(observed.host, objects.bridge);
  for (const { objects } of desired) {
    if (!objects.vxlan) continue;
    const v = planVxlan(observed, objects.vxlan);
    p.actions.push(...v.actions);
    p.problems.push(...v.problems);
    p.notes.push(...v.notes);
  }
  const sysctls = new Map(desired.flatMap(({ objects }) => objects.sysctls.map((s) => [s.key, s.value] as const)));
  for (const [key, value] of sysctls) {
    if (observed.sysctls.get(key) !== value) p.actions.push({ do: 'setSysctl', key, value });
  }
  for (const { network, endpoints } of desired) {
    for (const { endpoint, objects } of endpoints) {
      const seen = observed.endpoints.get(endpoint.id) ?? { state: 'notObserved' };
      p.endpoint(observed.host, `${network.name}/${endpoint.netns}`, objects, seen);
    }
  }
  const table = renderFirewall(desired.flatMap(({ objects }) => (objects.firewall ? [objects.firewall] : [])));
  const forwards = planForwards(desired, scope, released, observed.forwardElements);
  p.problems.push(...forwards.problems);
  if (table === undefined) {
    if (observed.firewall !== undefined) p.actions.push({ do: 'deleteFirewall' });
  } else if (observed.firewall !== signatureOf(table)) {
    // A rewritten table has empty maps: every wanted element goes in with it, in one transaction
    // (all endpoints', also in a scoped pass: O(mappings), but only when the structure changes).
    const all = scope === 'all' ? forwards.wanted : planForwards(desired, 'all', [], []).wanted;
    p.actions.push({ do: 'replaceFirewall', table, forwards: all });
  } else if (forwards.action) {
    p.actions.push(forwards.action);
  }
  return { actions: p.actions, problems: p.problems, notes: p.notes };
};
