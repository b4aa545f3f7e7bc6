/**
 * The network a netconf names: created on the first ADD, and afterwards checked against the
 * config so two conflists (or a conflist and `tnet create`) cannot silently disagree. Only the
 * settings the config gives are compared: a minimal `{"name": "web", "type": "tnet"}` fits any
 * existing network "web".
 */
import { networkMismatch } from '../model/network-fit.js';
import type { Network, NetworkRequest } from '../model/types.js';
import { CNI_CODES, CniError } from './error-codes.js';

export const requireFits = (want: NetworkRequest, have: Network): void => {
  const diff = networkMismatch(want, have);
  if (diff.length > 0) {
    throw new CniError(
      CNI_CODES.invalidNetworkConfig,
      `network ${have.name} already exists with other settings: ${diff.join('; ')}; fix the config (see 'tnet cni conflist ${have.name}') or remove the network`,
    );
  }
};

/** The request as a conflist would carry it: what `tnet cni conflist` prints for an existing network. */
export const netconfFieldsOf = (n: Network): Record<string, unknown> => ({
  ...(n.driver === 'bridge' ? {} : { driver: n.driver }),
  ...(n.ipv4 === undefined ? {} : { subnet: n.ipv4.subnet, gateway: n.ipv4.gateway, ...(n.ipv4.ipRange === undefined ? {} : { ipRange: n.ipv4.ipRange }) }),
  ...(n.ipv6 === undefined ? {} : { ipv6: { subnet: n.ipv6.subnet, gateway: n.ipv6.gateway, ...(n.ipv6.ipRange === undefined ? {} : { ipRange: n.ipv6.ipRange }) } }),
  ...(n.internal ? { internal: true } : {}),
  ...(n.driver === 'bridge' ? { mtu: n.mtu } : {}),
  ...(n.options.bridgeName === undefined ? {} : { options: { 'bridge.name': n.options.bridgeName } }),
});
