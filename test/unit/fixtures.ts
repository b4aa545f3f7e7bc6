/** Records for unit tests, shaped exactly as the store holds them. */
import type { Endpoint, Network } from '../../lib/model/types.js';
import { endpointIdFor, macFor } from '../../lib/model/names.js';

export const network = (over: Partial<Network> & { name: string }): Network => ({
  id: `${over.name.padEnd(8, 'x')}`.replace(/[^0-9a-f]/g, 'a').padEnd(64, '0'),
  driver: 'bridge',
  ipv4: { subnet: '10.1.0.0/24', gateway: '10.1.0.1' },
  internal: false,
  mtu: 1500,
  options: {},
  labels: {},
  created: '2026-01-01T00:00:00.000Z',
  ...over,
});

export const endpoint = (net: Network, netns: string, ipv4?: string): Endpoint => {
  const id = endpointIdFor(net.id, netns, 'eth0');
  return {
    id,
    network: net.name,
    netns,
    ifname: 'eth0',
    ...(ipv4 === undefined ? {} : { ipv4 }),
    mac: macFor(id),
    aliases: [],
    routeMetric: 100,
    owner: { kind: 'cli' },
  };
};
