/** The bridge driver: one Linux bridge per network, a veth pair per endpoint, NAT for egress. */
import { parseCidr } from '../model/cidr.js';
import { bridgeMacFor, bridgeNameFor, hostVethNameFor, ownerAlias } from '../model/names.js';
import type { Endpoint, IpFamily, Network, SubnetConfig } from '../model/types.js';
import type { DesiredAddress, DesiredRoute, DesiredSysctl, Driver } from './types.js';

const familiesOf = (network: Network): Array<[IpFamily, SubnetConfig]> => {
  const out: Array<[IpFamily, SubnetConfig]> = [];
  if (network.ipv4) out.push([4, network.ipv4]);
  if (network.ipv6) out.push([6, network.ipv6]);
  return out;
};

const addressIn = (family: IpFamily, cfg: SubnetConfig, address: string): DesiredAddress => ({
  family,
  address,
  prefixLength: parseCidr(cfg.subnet).prefixLength,
});

const DEFAULT_DESTINATION: Record<IpFamily, string> = { 4: '0.0.0.0/0', 6: '::/0' };

/** Forwarding is what lets containers leave their bridge; internal networks never leave it. */
const FORWARDING_SYSCTL: Record<IpFamily, DesiredSysctl> = {
  4: { key: 'net/ipv4/ip_forward', value: '1' },
  6: { key: 'net/ipv6/conf/all/forwarding', value: '1' },
};

/**
 * The kernel stores an IPv6 route added with metric 0 at the user default, 1024
 * (IP6_RT_PRIO_USER): Docker's IPv6 gateway route, metric 0 like its IPv4 one, reads back so.
 */
const IPV6_DEFAULT_METRIC = 1024;
const kernelMetric = (family: IpFamily, metric: number): number => (family === 6 && metric === 0 ? IPV6_DEFAULT_METRIC : metric);

export const bridgeDriver: Driver = {
  kind: 'bridge',
  allowsSeparateNetns: true,
  hasIpam: true,

  network(network, cluster) {
    const families = familiesOf(network);
    const bridge = bridgeNameFor(network);
    return {
      bridge: {
        name: bridge,
        mtu: network.mtu,
        mac: bridgeMacFor(network.id, cluster?.self?.name),
        alias: ownerAlias(network.id),
        addresses: families.map(([family, cfg]) => addressIn(family, cfg, cfg.gateway)),
      },
      sysctls: network.internal
        ? []
        : [
            ...families.map(([family]) => FORWARDING_SYSCTL[family]),
            // Published ports answer on 127.0.0.1: such packets may be routed onto this bridge
            // (masqueraded; firewall/render-ports.ts drops 127/8 arriving from it).
            ...(network.ipv4 ? [{ key: `net/ipv4/conf/${bridge}/route_localnet`, value: '1' }] : []),
          ],
      firewall: {
        networkId: network.id,
        bridge,
        subnets: families.map(([, cfg]) => cfg.subnet),
        internal: network.internal,
      },
    };
  },

  endpoint(network, endpoint: Endpoint) {
    const addresses: DesiredAddress[] = [];
    const routes: DesiredRoute[] = [];
    for (const [family, cfg] of familiesOf(network)) {
      const address = family === 4 ? endpoint.ipv4 : endpoint.ipv6;
      if (address === undefined) continue;
      addresses.push(addressIn(family, cfg, address));
      // Like Docker, an internal network gives no default route: there is no way out to route to.
      if (!network.internal) routes.push({ family, destination: DEFAULT_DESTINATION[family], gateway: cfg.gateway, metric: kernelMetric(family, endpoint.routeMetric) });
    }
    return {
      kind: 'veth',
      netns: endpoint.netns,
      hostVeth: {
        name: hostVethNameFor(endpoint.id),
        mtu: network.mtu,
        alias: ownerAlias(network.id, endpoint.id),
        master: bridgeNameFor(network),
      },
      container: { ifname: endpoint.ifname, mac: endpoint.mac, mtu: network.mtu, addresses, routes },
    };
  },
};
