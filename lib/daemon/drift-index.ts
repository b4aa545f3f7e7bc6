/**
 * What the daemon needs to turn a kernel event into a target, computed from the records it last
 * read through the drivers (the same desired state a pass computes). Pure. The index only routes
 * events; a pass always plans from fresh records, so a stale index costs an extra pass at worst.
 */
import type { DesiredAddress } from '../drivers/types.js';
import { ownerAlias } from '../model/names.js';
import type { Endpoint, IpFamily } from '../model/types.js';
import { desiredHost } from '../reconcile/desired.js';
import type { HostRecords } from '../service/sync.js';

export interface WantedLink {
  readonly mtu: number;
  readonly alias: string;
  readonly addresses: ReadonlySet<string>;
}

export interface WantedVeth {
  readonly endpointId: string;
  readonly master: string;
  readonly mtu: number;
  readonly alias: string;
}

/** One of our interfaces inside a container namespace. */
export interface WantedInterface {
  readonly endpointId: string;
  readonly ifname: string;
  readonly mtu: number;
  readonly mac: string;
  readonly addresses: ReadonlySet<string>;
  readonly routes: ReadonlySet<string>;
}

export interface DriftIndex {
  /** Bridges and VXLAN devices by name. */
  readonly networkLinks: ReadonlyMap<string, WantedLink>;
  readonly vxlans: ReadonlySet<string>;
  readonly hostVeths: ReadonlyMap<string, WantedVeth>;
  /** Endpoints whose veth a bridge holds, by bridge name. */
  readonly ports: ReadonlyMap<string, readonly string[]>;
  /** Container namespaces (paths) of this host's endpoints, and what tnet puts in each. */
  readonly namespaces: ReadonlyMap<string, readonly WantedInterface[]>;
  /** Endpoints by owner tag, the comment of their port-forward elements. */
  readonly byOwner: ReadonlyMap<string, string>;
  readonly forwarding: ReadonlySet<IpFamily>;
  /** This host's endpoints by id. */
  readonly local: ReadonlyMap<string, Endpoint>;
}

export const cidrKey = (a: { readonly address: string; readonly prefixLength: number }): string => `${a.address}/${a.prefixLength}`;
const keys = (addresses: readonly DesiredAddress[]): Set<string> => new Set(addresses.map(cidrKey));

export const driftIndex = (records: HostRecords): DriftIndex => {
  const desired = desiredHost(records.networks, records.endpoints, records.cluster);
  const networkLinks = new Map<string, WantedLink>();
  const vxlans = new Set<string>();
  const hostVeths = new Map<string, WantedVeth>();
  const ports = new Map<string, string[]>();
  const namespaces = new Map<string, WantedInterface[]>();
  const byOwner = new Map<string, string>();
  const forwarding = new Set<IpFamily>();
  const local = new Map<string, Endpoint>();
  for (const { network, objects, endpoints } of desired) {
    if (objects.bridge) networkLinks.set(objects.bridge.name, { mtu: objects.bridge.mtu, alias: objects.bridge.alias, addresses: keys(objects.bridge.addresses) });
    if (objects.vxlan) {
      networkLinks.set(objects.vxlan.name, { mtu: objects.vxlan.mtu, alias: objects.vxlan.alias, addresses: new Set() });
      vxlans.add(objects.vxlan.name);
    }
    for (const s of objects.sysctls) {
      if (s.key === 'net/ipv4/ip_forward') forwarding.add(4);
      if (s.key === 'net/ipv6/conf/all/forwarding') forwarding.add(6);
    }
    for (const { endpoint, objects: eo } of endpoints) {
      local.set(endpoint.id, endpoint);
      byOwner.set(ownerAlias(network.id, endpoint.id), endpoint.id);
      if (eo.kind === 'shareHost') continue;
      if (eo.kind !== 'loopbackOnly') {
        hostVeths.set(eo.hostVeth.name, { endpointId: endpoint.id, master: eo.hostVeth.master, mtu: eo.hostVeth.mtu, alias: eo.hostVeth.alias });
        const onBridge = ports.get(eo.hostVeth.master) ?? [];
        ports.set(eo.hostVeth.master, onBridge);
        onBridge.push(endpoint.id);
      }
      // A container side the runtime has not placed yet is in no container namespace to follow.
      if (eo.kind === 'handedVeth') continue;
      const inNs = namespaces.get(eo.netns) ?? [];
      namespaces.set(eo.netns, inNs);
      if (eo.kind !== 'veth') continue;
      const c = eo.container;
      inNs.push({ endpointId: endpoint.id, ifname: c.ifname, mtu: c.mtu, mac: c.mac, addresses: keys(c.addresses), routes: new Set(c.routes.map((r) => r.destination)) });
    }
  }
  return { networkLinks, vxlans, hostVeths, ports, namespaces, byOwner, forwarding, local };
};

/** Endpoints living in a namespace (an endpoint of the none driver has no interface of ours there). */
export const endpointsIn = (index: DriftIndex, path: string): string[] =>
  [...index.local.values()].filter((e) => e.netns === path).map((e) => e.id);
