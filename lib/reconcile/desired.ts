/** The desired state of one host, as the drivers describe it, ready for the planner. */
import { driverFor } from '../drivers/registry.js';
import type { ClusterView, EndpointObjects, NetworkObjects } from '../drivers/types.js';
import { forwardsOf, type PortForward } from '../firewall/forwards.js';
import type { Endpoint, Network } from '../model/types.js';
import { handedOver } from './handover.js';

export interface DesiredEndpoint {
  readonly endpoint: Endpoint;
  readonly objects: EndpointObjects;
}

export interface DesiredNetwork {
  readonly network: Network;
  readonly objects: NetworkObjects;
  readonly endpoints: readonly DesiredEndpoint[];
}

/** Names of the host-side links these networks and endpoints own (bridges, VXLAN devices, veths). */
export const hostLinkNames = (desired: readonly DesiredNetwork[], endpointFilter: (d: DesiredEndpoint) => boolean = () => true): string[] => [
  ...desired.flatMap(({ objects }) => [...(objects.bridge ? [objects.bridge.name] : []), ...(objects.vxlan ? [objects.vxlan.name] : [])]),
  ...desired.flatMap(({ endpoints }) =>
    endpoints.filter(endpointFilter).flatMap(({ objects }) => {
      if (objects.kind === 'veth') return [objects.hostVeth.name];
      // A parked container side lives in the host namespace too, under the name the runtime looks for.
      return objects.kind === 'handedVeth' ? [objects.hostVeth.name, ...(objects.parked ? [objects.parked.name] : [])] : [];
    }),
  ),
];

/** An endpoint recorded without a host, or on this host, is realised here; others are remote. */
export const isLocal = (e: Endpoint, cluster: ClusterView | undefined): boolean => e.host === undefined || e.host === cluster?.self?.name;

const isRemoving = (r: Network | Endpoint): boolean => r.phase === 'removing';

/**
 * What a driver makes of one endpoint depends on that record and its network's alone, and records
 * are immutable (the repository hands out the same object while a record is unchanged): so every
 * pass, and the daemon's index after each store change, derives only the records that changed,
 * not all of the host's endpoints again.
 */
const endpointObjectsMemo = new WeakMap<Network, WeakMap<Endpoint, EndpointObjects>>();
const endpointObjects = (network: Network, endpoint: Endpoint): EndpointObjects => {
  let byEndpoint = endpointObjectsMemo.get(network);
  if (byEndpoint === undefined) endpointObjectsMemo.set(network, (byEndpoint = new WeakMap()));
  let objects = byEndpoint.get(endpoint);
  if (objects === undefined) byEndpoint.set(endpoint, (objects = handedOver(driverFor(network.driver).endpoint(network, endpoint), endpoint)));
  return objects;
};

/** What the drivers make of these records, whatever their phase. */
const driverObjects = (networks: readonly Network[], endpoints: readonly Endpoint[], cluster?: ClusterView): DesiredNetwork[] => {
  const byNetwork = new Map<string, Endpoint[]>();
  for (const e of endpoints) {
    const list = byNetwork.get(e.network);
    if (list === undefined) byNetwork.set(e.network, [e]);
    else list.push(e);
  }
  return networks.map((network) => {
    const mine = byNetwork.get(network.name) ?? [];
    return {
      network,
      objects: driverFor(network.driver).network(network, cluster, mine.filter((e) => !isLocal(e, cluster))),
      endpoints: mine.filter((e) => isLocal(e, cluster)).map((endpoint) => ({ endpoint, objects: endpointObjects(network, endpoint) })),
    };
  });
};

/** What should exist: every record that is not being removed (records being created included). */
export const desiredHost = (networks: readonly Network[], endpoints: readonly Endpoint[], cluster?: ClusterView): DesiredNetwork[] =>
  driverObjects(networks.filter((n) => !isRemoving(n)), endpoints.filter((e) => !isRemoving(e)), cluster);

/**
 * What this host must take down before the records can go: the links and port forwards of local
 * endpoints being removed (or on a network being removed), the links of networks being removed,
 * and the forwards of mappings being unpublished. Pure; the planner deletes the links as stale
 * (they are ours and not wanted) and the forwards as released.
 */
export interface Departing {
  readonly networks: readonly Network[];
  readonly endpoints: readonly Endpoint[];
  /** Endpoints that stay, whose `releasing` mappings are to be cleared. */
  readonly releasing: readonly Endpoint[];
  readonly links: readonly string[];
  readonly forwards: readonly PortForward[];
}

export const departingHost = (networks: readonly Network[], endpoints: readonly Endpoint[], cluster?: ClusterView): Departing => {
  const goingNetworks = networks.filter(isRemoving);
  const going = new Set(goingNetworks.map((n) => n.name));
  const local = endpoints.filter((e) => isLocal(e, cluster));
  const goingEndpoints = local.filter((e) => isRemoving(e) || going.has(e.network));
  const releasing = local.filter((e) => !goingEndpoints.includes(e) && (e.releasing?.length ?? 0) > 0);
  const byName = new Map(networks.map((n) => [n.name, n]));
  const forwards = [
    ...goingEndpoints.flatMap((e) => forwardsFor(byName.get(e.network), e)),
    ...releasing.flatMap((e) => forwardsFor(byName.get(e.network), { ...e, ports: e.releasing ?? [] })),
  ];
  const withEndpoints = networks.filter((n) => going.has(n.name) || goingEndpoints.some((e) => e.network === n.name));
  return {
    networks: goingNetworks,
    endpoints: goingEndpoints,
    releasing,
    links: hostLinkNames(driverObjects(withEndpoints, goingEndpoints, cluster)),
    forwards,
  };
};

const forwardsFor = (network: Network | undefined, e: Endpoint): readonly PortForward[] => (network === undefined ? [] : forwardsOf(network, e));

export const nothingDeparts = (d: Departing): boolean => d.networks.length === 0 && d.endpoints.length === 0 && d.releasing.length === 0;
