/** The desired state of one host, as the drivers describe it, ready for the planner. */
import { driverFor } from '../drivers/registry.js';
import type { ClusterView, EndpointObjects, NetworkObjects } from '../drivers/types.js';
import type { Endpoint, Network } from '../model/types.js';

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
    endpoints.filter(endpointFilter).flatMap(({ objects }) => (objects.kind === 'veth' ? [objects.hostVeth.name] : [])),
  ),
];

/** An endpoint recorded without a host, or on this host, is realised here; others are remote. */
const isLocal = (e: Endpoint, cluster: ClusterView | undefined): boolean => e.host === undefined || e.host === cluster?.self?.name;

export const desiredHost = (networks: readonly Network[], endpoints: readonly Endpoint[], cluster?: ClusterView): DesiredNetwork[] =>
  networks.map((network) => {
    const driver = driverFor(network.driver);
    const mine = endpoints.filter((e) => e.network === network.name);
    return {
      network,
      objects: driver.network(network, cluster, mine.filter((e) => !isLocal(e, cluster))),
      endpoints: mine.filter((e) => isLocal(e, cluster)).map((endpoint) => ({ endpoint, objects: driver.endpoint(network, endpoint) })),
    };
  });
