/** The desired state of one host, as the drivers describe it, ready for the planner. */
import { driverFor } from '../drivers/registry.js';
import type { EndpointObjects, NetworkObjects } from '../drivers/types.js';
import { forwardsOf, type PortForward } from '../firewall/forwards.js';
import type { Endpoint, Network } from '../model/types.js';

export interface DesiredEndpoint {
  readonly endpoint: Endpoint;
  readonly objects: EndpointObjects;
  /** Published ports as firewall forwards (bridge endpoints with addresses only). */
  readonly forwards: readonly PortForward[];
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
        .map((endpoint) => {
          const objects = driver.endpoint(network, endpoint);
          return { endpoint, objects, forwards: objects.kind === 'veth' ? forwardsOf(network, endpoint) : [] };
        }),
    };
  });
