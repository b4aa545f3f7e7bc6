/**
 * Address allocation inside one subnet: a requested address is checked, otherwise the lowest
 * free address is taken. Pure over the set of taken addresses (canonical strings) so the caller
 * decides how taken addresses are stored and locked.
 */
import { TnetError } from '../errors.js';
import { type Cidr, formatAddress, formatIpv4Number, hostRange, parseAddress, parseCidr } from '../model/cidr.js';
import { inputError } from '../model/fields.js';
import { defaultGateway, reservedAddressReason } from '../model/subnet-config.js';
import type { IpFamily, SubnetConfig } from '../model/types.js';

const onNetwork = (networkName: string | undefined): string => (networkName === undefined ? '' : ` on network "${networkName}"`);

/**
 * Checks that `ip` may be given to an endpoint in `cfg` (inside the subnet, not the network,
 * broadcast or gateway address) and returns it canonical. The gateway defaults as tnet would pick it,
 * so a request whose network is not resolved yet is checked the same way.
 */
export const checkRequestedAddress = (
  cfg: { readonly subnet: string; readonly gateway?: string },
  ip: string,
  what: string,
  networkName?: string,
): string => {
  const subnet = parseCidr(cfg.subnet);
  const a = parseAddress(ip, what);
  const shown = formatAddress(a.family, a.value);
  if (a.family !== subnet.family || a.value < subnet.first || a.value > subnet.last) {
    throw inputError(what, `"${ip}" is outside subnet ${subnet.toString()}${onNetwork(networkName)}`);
  }
  const reserved = reservedAddressReason(subnet, a.value);
  if (reserved !== undefined) throw inputError(what, `"${ip}" ${reserved}; pick a host address`);
  if (shown === (cfg.gateway ?? defaultGateway(subnet))) {
    throw inputError(what, `"${ip}" is the gateway address${onNetwork(networkName)}; pick another address`, 'conflict');
  }
  return shown;
};

const lowestFree = (subnet: Cidr, range: Cidr, gateway: string, taken: ReadonlySet<string>): string | undefined => {
  const hosts = hostRange(subnet);
  const first = range.first > hosts.first ? range.first : hosts.first;
  const last = range.last < hosts.last ? range.last : hosts.last;
  // At most |taken| + 2 candidates are looked at before a free one, so this is linear in |taken|;
  // IPv4 counts in plain numbers because bigint increments and formatting dominate the loop.
  if (subnet.family === 4) {
    for (let n = Number(first), end = Number(last); n <= end; n++) {
      const ip = formatIpv4Number(n);
      if (ip !== gateway && !taken.has(ip)) return ip;
    }
    return undefined;
  }
  for (let v = first; v <= last; v++) {
    const ip = formatAddress(6, v);
    if (ip !== gateway && !taken.has(ip)) return ip;
  }
  return undefined;
};

/**
 * An address for a new endpoint. A requested address may lie outside ipRange (as in Docker: the
 * range limits only automatic choices) but must be inside the subnet and free.
 */
export const allocateAddress = (
  cfg: SubnetConfig,
  family: IpFamily,
  taken: ReadonlySet<string>,
  requested?: string,
  networkName?: string,
): string => {
  const subnet = parseCidr(cfg.subnet);
  if (subnet.family !== family) {
    throw new TnetError('internal', `allocateAddress: subnet ${cfg.subnet} is not IPv${family}`, { op: 'allocate' });
  }
  if (requested !== undefined) {
    const ip = checkRequestedAddress(cfg, requested, family === 4 ? 'ip' : 'ip6', networkName);
    if (taken.has(ip)) {
      throw new TnetError('conflict', `address ${ip} is already in use${onNetwork(networkName)}`, { op: 'allocate', target: ip });
    }
    return ip;
  }
  const range = cfg.ipRange === undefined ? subnet : parseCidr(cfg.ipRange);
  const ip = lowestFree(subnet, range, cfg.gateway, taken);
  if (ip === undefined) {
    const where = cfg.ipRange === undefined ? `subnet ${cfg.subnet}` : `ip range ${cfg.ipRange} of subnet ${cfg.subnet}`;
    throw new TnetError(
      'exhausted',
      `no free IPv${family} address left in ${where}${onNetwork(networkName)}; ` +
        'disconnect an endpoint or use a larger subnet or ip range',
      { op: 'allocate', ...(networkName === undefined ? {} : { target: networkName }) },
    );
  }
  return ip;
};
