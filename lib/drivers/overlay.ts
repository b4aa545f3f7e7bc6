/**
 * The overlay driver: on every host, a Linux bridge per network (like the bridge driver: gateway
 * address, veths for local endpoints, NAT for egress through that host) plus a VXLAN device on it.
 * The VXLAN device never floods to learn: in shared-store mode each remote endpoint gets an FDB
 * entry (its MAC behind its host's VTEP) and permanent ARP / NDP entries the device answers from (proxy);
 * with static peers, whose endpoints are unknown, broadcasts and unknown MACs are replicated to
 * the listed peers instead.
 */
import { ownerAlias, vxlanNameFor } from '../model/names.js';
import { bridgeDriver } from './bridge.js';
import type { Endpoint } from '../model/types.js';
import type { DesiredNeighbour, DesiredVxlan, Driver } from './types.js';

/** One entry per address family the endpoint has: the device answers ARP and NDP alike. */
const neighboursOf = (e: Endpoint): DesiredNeighbour[] => [
  ...(e.ipv4 === undefined ? [] : [{ family: 4 as const, address: e.ipv4, mac: e.mac }]),
  ...(e.ipv6 === undefined ? [] : [{ family: 6 as const, address: e.ipv6, mac: e.mac }]),
];

/** IANA's VXLAN port (the kernel's default is the pre-standard 8472). */
export const VXLAN_PORT = 4789;
const FLOOD_MAC = '00:00:00:00:00:00';

export const overlayDriver: Driver = {
  kind: 'overlay',
  allowsSeparateNetns: true,
  hasIpam: true,

  network(network, cluster, remote = []) {
    const self = cluster?.self;
    const vni = network.overlay?.vni;
    // Not joined: nothing to build here (creating or connecting is refused with the reason).
    if (self === undefined || vni === undefined || cluster === undefined) return { sysctls: [] };
    const base = bridgeDriver.network(network, cluster);
    const bridge = base.bridge;
    if (bridge === undefined) return base;
    const entries = remote.flatMap((e) => {
      const dst = e.host === undefined ? undefined : cluster.peers.get(e.host);
      return dst === undefined ? [] : [{ endpoint: e, dst }];
    });
    const vxlan: DesiredVxlan = {
      name: vxlanNameFor(network),
      vni,
      local: self.vtep,
      port: VXLAN_PORT,
      mtu: network.mtu,
      alias: ownerAlias(network.id),
      master: bridge.name,
      proxy: cluster.mode === 'store',
      fdb:
        cluster.mode === 'store'
          ? entries.map(({ endpoint, dst }) => ({ mac: endpoint.mac, dst }))
          : [...new Set(cluster.peers.values())].sort().map((dst) => ({ mac: FLOOD_MAC, dst })),
      neighbours: cluster.mode === 'store' ? entries.flatMap(({ endpoint }) => neighboursOf(endpoint)) : [],
    };
    return { ...base, vxlan };
  },

  endpoint: (network, endpoint) => bridgeDriver.endpoint(network, endpoint),
};
