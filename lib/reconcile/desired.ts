/** The desired state of one host, as the drivers describe it, ready for the planner. */
import { driverFor } from '../drivers/registry.js';
import type { EndpointObjects, NetworkObjects } from '../drivers/types.js';
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

/** Names of the host-side links these networks and endpoints own (bridges and veths). */
export const hostLinkNames = (desired: readonly DesiredNetwork[], endpointFilter: (d: DesiredEndpoint) => boolean = () => true): string[] => [
  ...desired.flatMap(({ objects }) => (objects.bridge ? [objects.bridge.name] : [])),
  ...desired.flatMap(({ endpoints }) =>
    endpoints.filter(endpointFilter).flatMap(({ objects }) => (objects.kind === 'veth' ? [objects.hostVeth.name] : [])),
  ),
];

export const desiredHost = (networks: readonly Network[], endpoints: readonly Endpoint[]): DesiredNetwork[] =>
  networks.map((network) => {
    const driver = driverFor(network.driver);
    return {
      network,
      objects: driver.network(network),
      endpoints: endpoints
        .filter((e) => e.network === network.name)
        .map((endpoint) => ({ endpoint, objects: driver.endpoint(network, endpoint) })),
    };
  });
