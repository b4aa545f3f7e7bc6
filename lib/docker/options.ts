/**
 * What a `docker network create -d tnet` asks for, from its CreateNetwork call: a new tnet bridge
 * network with Docker's pool and gateway and the `-o tnet.*` options, or (`-o tnet.network=NAME`)
 * an existing tnet network of any driver that this Docker network stands for. Unknown or invalid
 * options are refused with a message Docker shows the user. Pure.
 */
import { enclosingCidr, parseCidr, parseIp } from '../model/cidr.js';
import { inputError } from '../model/fields.js';
import { validateIfname, validateNetworkName } from '../model/names.js';
import { MTU_MAX, MTU_MIN, MTU_MIN_IPV6 } from '../model/network-request.js';
import type { NetworkRequest } from '../model/types.js';
import type { CreateNetworkInput, IpData } from './wire.js';

/** The tnet labels of a network a Docker network made; `tnet.` labels are tnet's own (users cannot set them). */
export const DOCKER_NETWORK_LABEL = 'tnet.docker.network';

/** The name a network Docker made has until Docker says what it called it (CreateNetwork never tells). */
export const provisionalName = (dockerNetworkId: string): string => `docker-${dockerNetworkId.slice(0, 12)}`;

const OPTIONS = {
  'tnet.network': 'an existing tnet network this Docker network stands for (any driver, overlays included)',
  'tnet.mtu': `the MTU of the network's bridge and interfaces (${MTU_MIN}-${MTU_MAX})`,
  'tnet.bridge.name': "the Linux bridge's name instead of the derived tnbr-…",
} as const;
type OptionKey = keyof typeof OPTIONS;

/** Docker's bridge driver options people carry over, and what tnet calls them. */
const DOCKER_BRIDGE_OPTIONS: Readonly<Record<string, OptionKey>> = {
  'com.docker.network.driver.mtu': 'tnet.mtu',
  'com.docker.network.bridge.name': 'tnet.bridge.name',
};

export const optionsHelp = (): string => Object.entries(OPTIONS).map(([k, why]) => `${k} (${why})`).join(', ');

export interface FamilyData {
  readonly subnet: string;
  readonly gateway?: string;
}

export type NetworkIntent =
  | { readonly kind: 'create'; readonly request: NetworkRequest }
  | { readonly kind: 'attach'; readonly network: string; readonly ipv4?: FamilyData; readonly ipv6?: FamilyData; readonly internal: boolean; readonly addressSpaces: readonly string[] };

const option = (key: string): OptionKey => {
  if (key in OPTIONS) return key as OptionKey;
  const tnetKey = DOCKER_BRIDGE_OPTIONS[key];
  const hint = tnetKey === undefined ? '' : ` (for Docker's bridge driver; tnet's is ${tnetKey})`;
  throw inputError('-o', `unknown option ${JSON.stringify(key)}${hint}; tnet takes ${optionsHelp()}`);
};

/** One family's pool: a network of tnet's has one subnet per family. */
const familyData = (data: readonly IpData[], family: 4 | 6): FamilyData | undefined => {
  const what = family === 4 ? '--subnet' : 'IPv6 --subnet';
  if (data.length > 1) throw inputError(what, `${data.length} IPv${family} pools given (${data.map((d) => d.pool).join(', ')}); a tnet network has one subnet per family`);
  const d = data[0];
  // The null IPAM driver hands out no pool: 0.0.0.0/0 and nothing else.
  if (d === undefined || d.pool === '' || d.pool === '0.0.0.0/0' || d.pool === '::/0') return undefined;
  const subnet = parseCidr(d.pool, what).toString();
  return d.gateway === undefined ? { subnet } : { subnet, gateway: addressOf(d.gateway, '--gateway') };
};

/** The address part of an interface CIDR such as Docker's "10.239.0.2/24" (host bits are the point). */
export const addressOf = (cidr: string, what: string): string => {
  enclosingCidr(cidr, what);
  return parseIp(cidr.split('/')[0] ?? '', what).address;
};

const mtuOf = (text: string, ipv6: boolean): number => {
  const mtu = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(mtu >= MTU_MIN && mtu <= MTU_MAX)) throw inputError('-o tnet.mtu', `${JSON.stringify(text)} is not allowed; expected an integer from ${MTU_MIN} to ${MTU_MAX}`);
  if (ipv6 && mtu < MTU_MIN_IPV6) throw inputError('-o tnet.mtu', `${mtu} is too small for IPv6, which needs an MTU of at least ${MTU_MIN_IPV6}`);
  return mtu;
};

export const networkIntent = (call: CreateNetworkInput): NetworkIntent => {
  const given = new Map(Object.entries(call.generic).map(([k, v]) => [option(k), v] as const));
  const ipv4 = familyData(call.ipv4Data, 4);
  const ipv6 = call.ipv6 ? familyData(call.ipv6Data, 6) : undefined;
  const target = given.get('tnet.network');
  if (target !== undefined) {
    const other = [...given.keys()].find((k) => k !== 'tnet.network');
    if (other !== undefined) throw inputError(`-o ${other}`, `cannot be set together with tnet.network: the existing network ${JSON.stringify(target)} keeps its own settings`);
    return {
      kind: 'attach',
      network: validateNetworkName(target, '-o tnet.network'),
      ...(ipv4 === undefined ? {} : { ipv4 }),
      ...(ipv6 === undefined ? {} : { ipv6 }),
      internal: call.internal,
      addressSpaces: [...call.ipv4Data, ...call.ipv6Data].map((d) => d.addressSpace),
    };
  }
  if (ipv4 === undefined) throw inputError('--ipam-driver', 'a new tnet network needs an IPv4 pool; use the default IPAM driver or tnet\'s (--ipam-driver tnet), not null');
  const mtu = given.get('tnet.mtu');
  const bridgeName = given.get('tnet.bridge.name');
  const request: NetworkRequest = {
    name: provisionalName(call.networkId),
    driver: 'bridge',
    ipv4,
    ...(call.ipv6 ? { ipv6: ipv6 ?? {} } : {}),
    internal: call.internal,
    ...(mtu === undefined ? {} : { mtu: mtuOf(mtu, call.ipv6) }),
    ...(bridgeName === undefined ? {} : { options: { bridgeName: validateIfname(bridgeName, '-o tnet.bridge.name') } }),
    labels: { [DOCKER_NETWORK_LABEL]: call.networkId },
  };
  return { kind: 'create', request };
};
