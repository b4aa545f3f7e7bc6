/**
 * The subnet, gateway and ip-range of one address family, and the rules that tie them together.
 * Used when parsing a request (with the field path for messages) and again when resolving a
 * network, so a NetworkRequest built in code gets the same checks as one read from a file.
 */
import { type Cidr, formatAddress, hostRange, nthAddress, parseAddress, parseCidr } from './cidr.js';
import { asRecord, asString, at, inputError, onlyKeys } from './fields.js';
import { specialRangeOf } from './special-ranges.js';
import type { IpFamily, NetworkRequest } from './types.js';

export type SubnetRequest = NonNullable<NetworkRequest['ipv4']>;

export const SUBNET_FIELDS = ['subnet', 'gateway', 'ipRange'] as const;

// A bridge network needs the network address, the gateway and at least one endpoint address
// (plus the broadcast address on IPv4).
const MAX_PREFIX: Record<IpFamily, number> = { 4: 30, 6: 126 };

const familyWord = (family: IpFamily): string => `IPv${family}`;

const checkFamily = (family: IpFamily, got: IpFamily, value: string, path: string): void => {
  if (got !== family) {
    const hint = family === 4 ? 'put IPv6 settings under ipv6:' : 'put IPv4 settings under subnet/gateway or ipv4:';
    throw inputError(path, `${value} is an IPv${got} value where ${familyWord(family)} is expected; ${hint}`);
  }
};

export const checkedSubnet = (family: IpFamily, s: string, path: string): Cidr => {
  const cidr = parseCidr(s, path);
  checkFamily(family, cidr.family, s, path);
  const special = specialRangeOf(cidr);
  if (special !== undefined) {
    throw inputError(path, `subnet ${cidr.toString()} ${special}; give a unicast subnet, e.g. from 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or fd00::/8`);
  }
  if (cidr.prefixLength > MAX_PREFIX[family]) {
    throw inputError(
      path,
      `subnet ${cidr.toString()} is too small; it needs room for the gateway and an endpoint, ` +
        `so at most /${MAX_PREFIX[family]} for ${familyWord(family)}`,
    );
  }
  return cidr;
};

/** The gateway tnet picks when none is given: the first host address. */
export const defaultGateway = (subnet: string | Cidr): string => nthAddress(subnet, 1n);

/** Reasons an address inside the subnet cannot be given to an interface, or undefined if it can. */
export const reservedAddressReason = (subnet: Cidr, value: bigint): string | undefined => {
  const hosts = hostRange(subnet);
  if (value === subnet.first) return `is the network address of ${subnet.toString()}`;
  if (value > hosts.last) return `is the broadcast address of ${subnet.toString()}`;
  return undefined;
};

/**
 * Validates one family's settings against each other and returns them in canonical form. With no
 * subnet, gateway and ipRange are refused: they only make sense relative to a known subnet.
 */
export const checkSubnetRequest = (family: IpFamily, req: SubnetRequest, where: string): SubnetRequest => {
  if (req.subnet === undefined) {
    const orphan = req.gateway !== undefined ? 'gateway' : req.ipRange !== undefined ? 'ipRange' : undefined;
    if (orphan !== undefined) throw inputError(at(where, orphan), `${orphan} needs a subnet; give subnet too`);
    return {};
  }
  const subnet = checkedSubnet(family, req.subnet, at(where, 'subnet'));
  const out: { subnet: string; gateway?: string; ipRange?: string } = { subnet: subnet.toString() };
  if (req.gateway !== undefined) {
    const path = at(where, 'gateway');
    const gw = parseAddress(req.gateway, path);
    const shown = formatAddress(gw.family, gw.value);
    checkFamily(family, gw.family, shown, path);
    if (gw.value < subnet.first || gw.value > subnet.last) {
      throw inputError(path, `gateway ${shown} is outside subnet ${subnet.toString()}`);
    }
    const reserved = reservedAddressReason(subnet, gw.value);
    if (reserved !== undefined) throw inputError(path, `gateway ${shown} ${reserved}; pick a host address`);
    out.gateway = shown;
  }
  if (req.ipRange !== undefined) {
    const path = at(where, 'ipRange');
    const range = parseCidr(req.ipRange, path);
    checkFamily(family, range.family, req.ipRange, path);
    if (range.first < subnet.first || range.last > subnet.last) {
      throw inputError(path, `ip range ${range.toString()} is outside subnet ${subnet.toString()}`);
    }
    out.ipRange = range.toString();
  }
  return out;
};

/** Reads {subnet, gateway, ipRange} from a mapping (the `ipv4:`/`ipv6:` object of a request). */
export const parseSubnetObject = (input: unknown, family: IpFamily, path: string): SubnetRequest => {
  const rec = asRecord(input, path);
  onlyKeys(rec, SUBNET_FIELDS, path);
  return checkSubnetRequest(family, pickSubnetFields(rec, path), path);
};

/** The subnet/gateway/ipRange strings of a mapping, unchecked against each other. */
export const pickSubnetFields = (rec: Record<string, unknown>, path: string): SubnetRequest => {
  const out: { subnet?: string; gateway?: string; ipRange?: string } = {};
  for (const key of SUBNET_FIELDS) {
    if (rec[key] !== undefined) out[key] = asString(rec[key], at(path, key));
  }
  return out;
};
