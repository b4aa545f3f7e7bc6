/**
 * Whether an existing network is what a request asks for: only the settings the request gives
 * are compared, so a request that leaves the subnet to tnet fits whatever subnet was picked. Used
 * for a CNI config naming an existing network, and for a retried `create` whose first run was
 * interrupted. Pure.
 */
import type { Network, NetworkRequest, SubnetConfig } from './types.js';

type FamilyRequest = NetworkRequest['ipv4'];

const familyDrift = (label: string, want: FamilyRequest, have: SubnetConfig | undefined): string[] => {
  if (want === undefined) return [];
  if (have === undefined) return [`${label} (not enabled on the network)`];
  return (['subnet', 'gateway', 'ipRange'] as const)
    .filter((k) => want[k] !== undefined && want[k] !== have[k])
    .map((k) => `${label === 'ipv4' ? '' : 'ipv6.'}${k} (asked ${String(want[k])}, network ${have[k] ?? 'unset'})`);
};

/** Settings the request gives that the existing network does not have; empty when it fits. */
export const networkMismatch = (want: NetworkRequest, have: Network): string[] => [
  ...(want.driver === have.driver ? [] : [`driver (asked ${want.driver}, network ${have.driver})`]),
  ...familyDrift('ipv4', want.ipv4, have.ipv4),
  ...familyDrift('ipv6', want.ipv6, have.ipv6),
  ...(want.internal === undefined || want.internal === have.internal ? [] : [`internal (asked ${want.internal}, network ${have.internal})`]),
  ...(want.mtu === undefined || want.mtu === have.mtu ? [] : [`mtu (asked ${want.mtu}, network ${have.mtu})`]),
  ...(want.options?.bridgeName === undefined || want.options.bridgeName === have.options.bridgeName
    ? []
    : [`options.bridge.name (asked ${want.options.bridgeName}, network ${have.options.bridgeName ?? 'derived'})`]),
  ...(want.labels === undefined || JSON.stringify(want.labels) === JSON.stringify(have.labels)
    ? []
    : [`labels (asked ${JSON.stringify(want.labels)}, network ${JSON.stringify(have.labels)})`]),
  ...(want.vni === undefined || want.vni === have.overlay?.vni ? [] : [`vni (asked ${want.vni}, network ${have.overlay?.vni ?? 'none'})`]),
  ...(want.dnsEnabled === undefined || want.dnsEnabled === (have.dnsEnabled ?? true) ? [] : [`dnsEnabled (asked ${want.dnsEnabled}, network ${have.dnsEnabled ?? true})`]),
];

