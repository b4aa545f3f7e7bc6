/**
 * A NetworkRequest from untyped input: a `networks:` entry of a spec file, or the object the CLI
 * builds from `tnet network create` flags. Values come back canonical (CIDRs, addresses) so later
 * comparisons are plain string equality.
 */
import {
  asBoolean,
  asInteger,
  asRecord,
  asString,
  asStringMap,
  at,
  describe,
  inputError,
  onlyKeys,
  parseKeyValues,
} from './fields.js';
import { validateIfname, validateNetworkName } from './names.js';
import { SUBNET_FIELDS, type SubnetRequest, checkSubnetRequest, parseSubnetObject, pickSubnetFields } from './subnet-config.js';
import { DRIVER_KINDS, VNI_MAX, VNI_MIN, isAddressedDriver, type DriverKind, type NetworkOptions, type NetworkRequest } from './types.js';

export const NETWORK_FIELDS = [
  'name',
  'driver',
  ...SUBNET_FIELDS,
  'ipv4',
  'ipv6',
  'internal',
  'mtu',
  'options',
  'labels',
  'vni',
  'dnsEnabled',
] as const;

/** Driver options by their user-facing key (`-o bridge.name=br0`). */
const OPTION_KEYS = ['bridge.name'] as const;

export const MTU_MIN = 68; // RFC 791: every IPv4 host must handle 68-byte datagrams
export const MTU_MAX = 65535;
export const MTU_MIN_IPV6 = 1280; // RFC 8200 section 5

/** Fields that only mean something to a driver that builds its own interfaces. */
const ADDRESSING_FIELDS = [...SUBNET_FIELDS, 'ipv4', 'ipv6', 'internal', 'mtu', 'options', 'dnsEnabled'] as const;

const WHY_NOT: Record<Exclude<DriverKind, 'bridge' | 'overlay'>, string> = {
  host: "it uses the host's network stack as it is",
  none: 'it gives the container only a loopback interface',
};

const parseDriver = (v: unknown, path: string): DriverKind => {
  if (v === undefined) return 'bridge';
  const s = asString(v, path);
  const kind = DRIVER_KINDS.find((k) => k === s);
  if (kind === undefined) {
    throw inputError(path, `driver ${JSON.stringify(s)} is not supported; allowed drivers: ${DRIVER_KINDS.join(', ')}`);
  }
  return kind;
};

const parseOptions = (v: unknown, path: string): NetworkOptions => {
  const rec = asRecord(v, path);
  onlyKeys(rec, OPTION_KEYS, path, 'option');
  const name = rec['bridge.name'];
  return name === undefined ? {} : { bridgeName: validateIfname(asString(name, at(path, 'bridge.name')), at(path, 'bridge.name')) };
};

/** Labels tnet sets itself (e.g. tnet.applied-from, which decides what apply may delete). */
export const RESERVED_LABEL_PREFIX = 'tnet.';

const parseLabelMap = (v: unknown, path: string): Record<string, string> => {
  const labels = asStringMap(v, path);
  if ('' in labels) throw inputError(path, 'a label needs a non-empty key');
  const reserved = Object.keys(labels).find((k) => k.startsWith(RESERVED_LABEL_PREFIX));
  if (reserved !== undefined) throw inputError(at(path, reserved), `label keys starting with "${RESERVED_LABEL_PREFIX}" are tnet's own; choose another key`);
  return labels;
};

const parseIpv4 = (rec: Record<string, unknown>, where: string): SubnetRequest | undefined => {
  const shorthand = SUBNET_FIELDS.filter((k) => rec[k] !== undefined);
  if (rec.ipv4 !== undefined && shorthand.length > 0) {
    throw inputError(at(where, 'ipv4'), `give IPv4 settings either as ${shorthand.join('/')} or under ipv4:, not both`);
  }
  const cfg =
    rec.ipv4 !== undefined
      ? parseSubnetObject(rec.ipv4, 4, at(where, 'ipv4'))
      : checkSubnetRequest(4, pickSubnetFields(rec, where), where);
  return Object.keys(cfg).length === 0 ? undefined : cfg;
};

const parseIpv6 = (v: unknown, path: string): SubnetRequest | undefined => {
  if (v === undefined || v === false) return undefined;
  if (v === true) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw inputError(path, `expected true, false or a mapping with subnet, gateway, ipRange; got ${describe(v)}`);
  }
  return parseSubnetObject(v, 6, path);
};

/**
 * @param where path prefix for messages ('' for the CLI, 'networks[0]' for a spec file entry)
 * @param extraFields fields the caller reads itself (a spec file's `endpoints`), allowed but ignored
 */
export const parseNetworkRequest = (input: unknown, where: string, extraFields: readonly string[] = []): NetworkRequest => {
  const rec = asRecord(input, where);
  onlyKeys(rec, [...NETWORK_FIELDS, ...extraFields], where);
  if (rec.name === undefined) throw inputError(at(where, 'name'), 'is required');
  const name = validateNetworkName(asString(rec.name, at(where, 'name')), at(where, 'name'));
  const driver = parseDriver(rec.driver, at(where, 'driver'));
  const labels = rec.labels === undefined ? {} : { labels: parseLabelMap(rec.labels, at(where, 'labels')) };
  if (!isAddressedDriver(driver)) {
    const refused = [...ADDRESSING_FIELDS, 'vni'].find((k) => rec[k] !== undefined);
    if (refused !== undefined) throw inputError(at(where, refused), `driver "${driver}" takes no ${refused}: ${WHY_NOT[driver]}`);
    return { name, driver, ...labels };
  }
  if (driver === 'bridge' && rec.vni !== undefined) {
    throw inputError(at(where, 'vni'), 'driver "bridge" takes no vni: a VNI names a VXLAN segment, which only the overlay driver builds');
  }
  const vni = rec.vni === undefined ? undefined : asInteger(rec.vni, at(where, 'vni'), VNI_MIN, VNI_MAX);
  const ipv4 = parseIpv4(rec, where);
  const ipv6 = parseIpv6(rec.ipv6, at(where, 'ipv6'));
  const mtu = rec.mtu === undefined ? undefined : asInteger(rec.mtu, at(where, 'mtu'), MTU_MIN, MTU_MAX);
  if (mtu !== undefined && ipv6 !== undefined && mtu < MTU_MIN_IPV6) {
    throw inputError(at(where, 'mtu'), `${mtu} is too small for IPv6, which needs an MTU of at least ${MTU_MIN_IPV6}`);
  }
  return {
    name,
    driver,
    ...(ipv4 === undefined ? {} : { ipv4 }),
    ...(ipv6 === undefined ? {} : { ipv6 }),
    ...(rec.internal === undefined ? {} : { internal: asBoolean(rec.internal, at(where, 'internal')) }),
    ...(mtu === undefined ? {} : { mtu }),
    ...(rec.options === undefined ? {} : { options: parseOptions(rec.options, at(where, 'options')) }),
    ...labels,
    ...(vni === undefined ? {} : { vni }),
    ...(rec.dnsEnabled === undefined ? {} : { dnsEnabled: asBoolean(rec.dnsEnabled, at(where, 'dnsEnabled')) }),
  };
};

/** Driver options from repeated `-o key=value` flags. */
export const parseDriverOptions = (list: readonly string[]): NetworkOptions =>
  parseOptions(Object.fromEntries(parseKeyValues(list, '--opt', true)), '--opt');

/** Labels from repeated `--label key=value` flags; `--label key` means an empty value, as in Docker. */
export const parseLabels = (list: readonly string[]): Record<string, string> =>
  Object.fromEntries(parseKeyValues(list, '--label', false));
