/**
 * CNI results: built from a tnet endpoint in the 1.x shape, merged with a chained plugin's
 * prevResult, and encoded for the version the runtime asked for. Pure.
 */
import { bridgeNameFor, hostVethNameFor } from '../model/names.js';
import { enclosingCidr, parseAddress, parseCidr } from '../model/cidr.js';
import { servesDns } from '../model/dns-name.js';
import { isRecord } from '../model/fields.js';
import type { Endpoint, Network, SubnetConfig } from '../model/types.js';
import { CNI_CODES, CniError } from './error-codes.js';
import { ipsCarryVersion, type CniVersion } from './versions.js';

export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  readonly sandbox?: string;
}
export interface CniIp {
  readonly address: string; // CIDR: the address with the subnet's prefix length
  readonly gateway?: string;
  readonly interface?: number; // index into interfaces
}
export interface CniRoute {
  readonly dst: string;
  readonly gw?: string;
}
export interface CniResult {
  readonly interfaces: readonly CniInterface[];
  readonly ips: readonly CniIp[];
  readonly routes: readonly CniRoute[];
  readonly dns: Readonly<Record<string, unknown>>;
}

export const EMPTY_RESULT: CniResult = { interfaces: [], ips: [], routes: [], dns: {} };

const DEFAULT_DST = { 4: '0.0.0.0/0', 6: '::/0' } as const;

/**
 * What tnet did for one endpoint. A bridge network lists its bridge and host veth (without a
 * sandbox: chained plugins such as bandwidth look for the host side there) and the container side.
 */
export const endpointResult = (network: Network, endpoint: Endpoint, dns: Readonly<Record<string, unknown>> = {}): CniResult => {
  if (network.driver !== 'bridge') {
    return { interfaces: [{ name: endpoint.ifname, sandbox: endpoint.netns }], ips: [], routes: [], dns };
  }
  const interfaces: CniInterface[] = [
    { name: bridgeNameFor(network) },
    { name: hostVethNameFor(endpoint.id) },
    { name: endpoint.ifname, mac: endpoint.mac, sandbox: endpoint.netns },
  ];
  const ips: CniIp[] = [];
  const routes: CniRoute[] = [];
  const family = (fam: 4 | 6, cfg: SubnetConfig | undefined, address: string | undefined): void => {
    if (cfg === undefined || address === undefined) return;
    ips.push({ address: `${address}/${parseCidr(cfg.subnet).prefixLength}`, gateway: cfg.gateway, interface: 2 });
    if (!network.internal) routes.push({ dst: DEFAULT_DST[fam], gw: cfg.gateway });
  };
  family(4, network.ipv4, endpoint.ipv4);
  family(6, network.ipv6, endpoint.ipv6);
  return { interfaces, ips, routes, dns };
};

/**
 * The result's `dns`: a network tnet's DNS server serves has its gateways as nameservers (what
 * Podman writes into the container's resolv.conf); the rest of the netconf's `dns` is passed on.
 */
export const dnsFor = (network: Network, conf: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> => {
  if (!servesDns(network)) return conf;
  const nameservers = [network.ipv4?.gateway, network.ipv6?.gateway].filter((g) => g !== undefined);
  return { ...conf, nameservers };
};

/** Appends ours to a previous plugin's result, shifting our interface indexes past theirs. */
export const mergeResults = (prev: CniResult | undefined, ours: CniResult): CniResult => {
  if (prev === undefined) return ours;
  const shift = prev.interfaces.length;
  return {
    interfaces: [...prev.interfaces, ...ours.interfaces],
    ips: [...prev.ips, ...ours.ips.map((ip) => (ip.interface === undefined ? ip : { ...ip, interface: ip.interface + shift }))],
    routes: [...prev.routes, ...ours.routes],
    dns: Object.keys(ours.dns).length > 0 ? ours.dns : prev.dns,
  };
};

const familyOf = (cidr: string): '4' | '6' => (cidr.includes(':') ? '6' : '4');

/** The JSON object to print for `cniVersion`: 0.3.x/0.4.0 tag each IP with its family. */
export const encodeResult = (result: CniResult, cniVersion: CniVersion): Record<string, unknown> => ({
  cniVersion,
  interfaces: result.interfaces,
  ips: ipsCarryVersion(cniVersion) ? result.ips.map((ip) => ({ version: familyOf(ip.address), ...ip })) : result.ips,
  routes: result.routes,
  dns: result.dns,
});

const bad = (path: string, problem: string): CniError => new CniError(CNI_CODES.decodeFailure, `prevResult.${path}: ${problem}`);
const str = (v: unknown, path: string): string => {
  if (typeof v !== 'string' || v === '') throw bad(path, 'expected a non-empty string');
  return v;
};
const optStr = (v: unknown, path: string): string | undefined => (v === undefined ? undefined : str(v, path));
const list = (v: unknown, path: string): unknown[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(path, 'expected a list');
  return v;
};
const rec = (v: unknown, path: string): Record<string, unknown> => {
  if (!isRecord(v)) throw bad(path, 'expected an object');
  return v;
};
/** Drops unset optional fields (exactOptionalPropertyTypes: absent, never undefined). */
const only = <R>(o: Record<string, unknown>): R => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as R;

/** A prevResult of any supported version, in the 1.x shape (the 0.x "version" tags dropped). */
/** The value, once a model parser accepts it; its complaint otherwise, as this field's. */
const checked = (v: string | undefined, path: string, parse: (s: string) => unknown): string | undefined => {
  if (v === undefined) return undefined;
  try {
    parse(v);
  } catch (e) {
    throw bad(path, e instanceof Error ? e.message : String(e));
  }
  return v;
};
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const asMac = (s: string): void => {
  if (!MAC.test(s)) throw new Error(`${JSON.stringify(s)} is not a MAC address`);
};
const asCidrWithPrefix = (s: string): void => {
  if (!s.includes('/')) throw new Error(`${JSON.stringify(s)} has no prefix length (expected ADDRESS/PREFIX)`);
  enclosingCidr(s);
};
/** What a result carries (SPEC.md "Success"); anything else means the runtime sent something that is not a result. */
const RESULT_FIELDS = new Set(['cniVersion', 'interfaces', 'ips', 'routes', 'dns']);

export const parsePrevResult = (v: unknown): CniResult => {
  const r = rec(v, '');
  const unknown = Object.keys(r).find((k) => !RESULT_FIELDS.has(k));
  if (unknown !== undefined) throw bad(unknown, `is not a field of a CNI result (${[...RESULT_FIELDS].join(', ')})`);
  const interfaces = list(r['interfaces'], 'interfaces').map((x, i) => {
    const o = rec(x, `interfaces[${i}]`);
    const mac = checked(optStr(o['mac'], `interfaces[${i}].mac`), `interfaces[${i}].mac`, asMac);
    return only<CniInterface>({ name: str(o['name'], `interfaces[${i}].name`), mac, sandbox: optStr(o['sandbox'], `interfaces[${i}].sandbox`) });
  });
  const ips = list(r['ips'], 'ips').map((x, i) => {
    const o = rec(x, `ips[${i}]`);
    const iface = o['interface'];
    if (iface !== undefined && (typeof iface !== 'number' || !Number.isInteger(iface) || iface < 0 || iface >= interfaces.length)) {
      throw bad(`ips[${i}].interface`, `expected an index into interfaces (0 to ${interfaces.length - 1})`);
    }
    return only<CniIp>({
      address: checked(str(o['address'], `ips[${i}].address`), `ips[${i}].address`, asCidrWithPrefix) ?? '',
      gateway: checked(optStr(o['gateway'], `ips[${i}].gateway`), `ips[${i}].gateway`, (g) => parseAddress(g)),
      interface: iface as number | undefined,
    });
  });
  const routes = list(r['routes'], 'routes').map((x, i) => {
    const o = rec(x, `routes[${i}]`);
    return only<CniRoute>({
      dst: checked(str(o['dst'], `routes[${i}].dst`), `routes[${i}].dst`, asCidrWithPrefix) ?? '',
      gw: checked(optStr(o['gw'], `routes[${i}].gw`), `routes[${i}].gw`, (g) => parseAddress(g)),
    });
  });
  const dns = r['dns'] === undefined ? {} : rec(r['dns'], 'dns');
  return { interfaces, ips, routes, dns };
};
