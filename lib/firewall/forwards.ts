/**
 * Published ports as nftables map elements. A forward (one published port of one family) is two
 * elements with the same key, one in an address map and one in a port map, both read by one dnat
 * rule: libnftables 1.0.6 cannot declare a concatenated *value* in JSON (KERNEL-APIS.md), but it
 * can declare concatenated keys with plain values. Keys are (protocol . host address . port) for a
 * mapping bound to one address, (protocol . port) for one on every address. Every element carries
 * its owner (the endpoint's owner tag) as its comment, so elements are diffed one by one. Pure.
 */
import { ownerAlias } from '../model/names.js';
import type { Endpoint, IpFamily, Network, PortProtocol } from '../model/types.js';
import { TABLE_FAMILY, TABLE_NAME, type MapDef } from './types.js';

export interface PortForward {
  readonly family: IpFamily;
  readonly protocol: PortProtocol;
  /** undefined: every local address of the family. */
  readonly hostIp?: string;
  readonly hostPort: number;
  readonly target: string;
  readonly targetPort: number;
  /** Owner tag of the endpoint (ownerAlias), stored as the elements' comment. */
  readonly owner: string;
}

/** One map element as written and as listed back. */
export interface NftElement {
  readonly map: string;
  readonly key: readonly (string | number)[];
  readonly value: string | number;
  readonly comment: string;
}

const UNSPECIFIED: Record<IpFamily, string> = { 4: '0.0.0.0', 6: '::' };
const familyOf = (ip: string): IpFamily => (ip.includes(':') ? 6 : 4);

/**
 * Forwards by endpoint record: records come from the repository as the same frozen object while
 * unchanged, so a pass over every endpoint's forwards costs a lookup for all but the changed one.
 */
const memo = new WeakMap<Endpoint, { network: Network; forwards: readonly PortForward[] }>();

/** The forwards of one endpoint: a mapping with no host address is published for each family the endpoint has. */
export const forwardsOf = (network: Network, endpoint: Endpoint): readonly PortForward[] => {
  const hit = memo.get(endpoint);
  if (hit?.network === network) return hit.forwards;
  const forwards = computeForwards(network, endpoint);
  memo.set(endpoint, { network, forwards });
  return forwards;
};

const computeForwards = (network: Network, endpoint: Endpoint): PortForward[] =>
  (endpoint.ports ?? []).flatMap((m) => {
    const families: IpFamily[] = m.hostIp === undefined ? [4, 6] : [familyOf(m.hostIp)];
    return families.flatMap((family) => {
      const target = family === 4 ? endpoint.ipv4 : endpoint.ipv6;
      if (target === undefined) return [];
      const hostIp = m.hostIp === undefined || m.hostIp === UNSPECIFIED[family] ? {} : { hostIp: m.hostIp };
      return [{ family, protocol: m.protocol, ...hostIp, hostPort: m.hostPort, target, targetPort: m.containerPort, owner: ownerAlias(network.id, endpoint.id) }];
    });
  });

export const mapName = (family: IpFamily, bound: boolean, what: 'addr' | 'port'): string => `fwd${family}${bound ? '' : '_any'}_${what}`;

const ADDR_TYPE: Record<IpFamily, string> = { 4: 'ipv4_addr', 6: 'ipv6_addr' };

export const FORWARD_MAPS: readonly MapDef[] = ([4, 6] as const).flatMap((family) =>
  [true, false].flatMap((bound) => {
    const keyType = bound ? ['inet_proto', ADDR_TYPE[family], 'inet_service'] : ['inet_proto', 'inet_service'];
    return [
      { name: mapName(family, bound, 'addr'), keyType, valueType: ADDR_TYPE[family] },
      { name: mapName(family, bound, 'port'), keyType, valueType: 'inet_service' },
    ];
  }),
);

export const elementsOf = (f: PortForward): NftElement[] => {
  const bound = f.hostIp !== undefined;
  const key = bound ? [f.protocol, f.hostIp, f.hostPort] : [f.protocol, f.hostPort];
  return [
    { map: mapName(f.family, bound, 'addr'), key, value: f.target, comment: f.owner },
    { map: mapName(f.family, bound, 'port'), key, value: f.targetPort, comment: f.owner },
  ];
};

/** Identity of an element in the kernel: its map and key (a key holds one value at a time). */
export const elementId = (e: Pick<NftElement, 'map' | 'key'>): string => `${e.map} ${e.key.join(' . ')}`;
export const sameElement = (a: NftElement, b: NftElement): boolean =>
  elementId(a) === elementId(b) && a.value === b.value && a.comment === b.comment;

type Command = Record<string, unknown>;
const byMap = (elements: readonly NftElement[]): Map<string, NftElement[]> => {
  const out = new Map<string, NftElement[]>();
  for (const e of elements) out.set(e.map, [...(out.get(e.map) ?? []), e]);
  return out;
};
const where = (map: string) => ({ family: TABLE_FAMILY, table: TABLE_NAME, name: map });

export const addElementCommands = (elements: readonly NftElement[]): Command[] =>
  [...byMap(elements)].map(([map, es]) => ({
    add: { element: { ...where(map), elem: es.map((e) => [{ elem: { val: { concat: e.key }, comment: e.comment } }, e.value]) } },
  }));

export const deleteElementCommands = (elements: readonly NftElement[]): Command[] =>
  [...byMap(elements)].map(([map, es]) => ({ delete: { element: { ...where(map), elem: es.map((e) => ({ concat: e.key })) } } }));

/**
 * Deletes that cannot fail on an element that is already gone: adding an identical element is a
 * no-op and a missing one is created, so the delete after it always finds it (nft 1.0.6 has no
 * `destroy`). Adding fails only when the key holds another value: that is drift, found by a full pass.
 */
export const forgetElementCommands = (elements: readonly NftElement[]): Command[] => [
  ...addElementCommands(elements),
  ...deleteElementCommands(elements),
];

interface ListedElem {
  elem?: { val?: unknown; comment?: string };
  concat?: unknown[];
}

/** The elements of a listed map item (`{map: {name, elem: [[key, value], …]}}`); anything else gives none. */
export const elementsOfListed = (item: unknown): NftElement[] => {
  const map = (item as { map?: { name?: string; elem?: unknown[] } }).map;
  if (map?.name === undefined) return [];
  const name = map.name;
  return (map.elem ?? []).flatMap((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) return [];
    const k = pair[0] as ListedElem;
    const val = (k.elem?.val ?? k) as ListedElem;
    const key = Array.isArray(val.concat) ? (val.concat as (string | number)[]) : undefined;
    const value = pair[1] as unknown;
    if (key === undefined || (typeof value !== 'string' && typeof value !== 'number')) return [];
    return [{ map: name, key, value, comment: k.elem?.comment ?? '' }];
  });
};
