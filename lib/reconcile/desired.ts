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
