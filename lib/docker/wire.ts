/**
 * libnetwork's remote driver protocol as Docker 20.10 speaks it (../shared/DOCKER-PLUGIN-FACTS.md):
 * `POST /<Interface>.<Method>` with a JSON body (empty for the activation and capability calls,
 * no Content-Type), answered with JSON. Every request is parsed here into a typed call, with
 * messages naming the bad field; replies and errors are encoded here. Pure.
 *
 * The two APIs put errors under different keys: the network driver's under "Err", the IPAM
 * driver's under "Error" (an IPAM reply with "Err" is silently ignored by Docker).
 */
import { TnetError } from '../errors.js';
import { asBoolean, asRecord, asRecordList, at, describe, inputError, isRecord } from '../model/fields.js';
import type { PortBinding } from '../model/types.js';
import { parseDockerPortmap } from './ports.js';

export type Api = 'Plugin' | 'NetworkDriver' | 'IpamDriver';

/** One address family of a network as Docker's IPAM gave it (CreateNetwork's IPv4Data/IPv6Data). */
export interface IpData {
  readonly addressSpace: string;
  /** CIDR. */
  readonly pool: string;
  /** CIDR (the gateway with the pool's prefix), absent with the null IPAM. */
  readonly gateway?: string;
}

export interface EndpointCall {
  readonly networkId: string;
  readonly endpointId: string;
}

export interface CreateNetworkInput {
  readonly networkId: string;
  /** `-o key=value` options (com.docker.network.generic). */
  readonly generic: Readonly<Record<string, string>>;
  readonly ipv6: boolean;
  readonly internal: boolean;
  readonly ipv4Data: readonly IpData[];
  readonly ipv6Data: readonly IpData[];
}

export type DockerCall =
  | { readonly kind: 'activate' }
  | { readonly kind: 'networkCapabilities' }
  | { readonly kind: 'ipamCapabilities' }
  | { readonly kind: 'addressSpaces' }
  /** Node discovery: only global-scope drivers get it; nothing to do for a local one. */
  | { readonly kind: 'discover' }
  | ({ readonly kind: 'createNetwork' } & CreateNetworkInput)
  | { readonly kind: 'deleteNetwork'; readonly networkId: string }
  | (EndpointCall & {
      readonly kind: 'createEndpoint';
      /** CIDRs Docker's IPAM assigned; absent with the null IPAM (then tnet picks and answers). */
      readonly address?: string;
      readonly addressIpv6?: string;
      readonly mac?: string;
    })
  | (EndpointCall & { readonly kind: 'deleteEndpoint' | 'endpointInfo' | 'leave' | 'revokeExternalConnectivity' })
  | (EndpointCall & { readonly kind: 'join'; readonly sandboxKey: string; readonly portmap: readonly PortBinding[] })
  | (EndpointCall & { readonly kind: 'programExternalConnectivity'; readonly portmap: readonly PortBinding[] })
  | {
      readonly kind: 'requestPool';
      readonly addressSpace: string;
      /** CIDR asked for (--subnet), absent when the driver is to choose. */
      readonly pool?: string;
      /** --ip-range. */
      readonly subPool?: string;
      readonly options: Readonly<Record<string, string>>;
      readonly v6: boolean;
    }
  | { readonly kind: 'releasePool'; readonly poolId: string }
  | { readonly kind: 'requestAddress'; readonly poolId: string; readonly address?: string; readonly gateway: boolean }
  | { readonly kind: 'releaseAddress'; readonly poolId: string; readonly address: string };

/** Docker names networks and endpoints by 64 hex digits (stringid); a prefix of 12 is the short id. */
const DOCKER_ID = /^[0-9a-f]{12,64}$/;
const GATEWAY_REQUEST = 'com.docker.network.gateway';
const GENERIC = 'com.docker.network.generic';
const PORTMAP = 'com.docker.network.portmap';

/** The port bindings Join and ProgramExternalConnectivity carry in their Options. */
const portmapOf = (b: Record<string, unknown>): PortBinding[] => {
  const options = b['Options'] === undefined || b['Options'] === null ? {} : asRecord(b['Options'], 'Options');
  return parseDockerPortmap(options[PORTMAP], at('Options', PORTMAP));
};

const dockerId = (rec: Record<string, unknown>, key: string): string => {
  const v = rec[key];
  if (typeof v !== 'string' || !DOCKER_ID.test(v)) throw inputError(key, `expected a Docker id (12 to 64 hex digits), got ${describe(v)}`);
  return v;
};

/** A string field that may be empty or absent (Docker sends "" for "none"). */
const optionalText = (rec: Record<string, unknown>, key: string, path = key): string | undefined => {
  const v = rec[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw inputError(path, `expected a string, got ${describe(v)}`);
  return v;
};

const requiredText = (rec: Record<string, unknown>, key: string): string => {
  const v = optionalText(rec, key);
  if (v === undefined) throw inputError(key, 'is required');
  return v;
};

const stringMap = (v: unknown, path: string): Record<string, string> => {
  if (v === undefined || v === null) return {};
  const rec = asRecord(v, path);
  for (const [k, value] of Object.entries(rec)) {
    if (typeof value !== 'string') throw inputError(at(path, k), `expected a string, got ${describe(value)}`);
  }
  return rec as Record<string, string>;
};

const flag = (rec: Record<string, unknown>, key: string): boolean => (rec[key] === undefined ? false : asBoolean(rec[key], key));

const ipData = (v: unknown, path: string): IpData[] =>
  asRecordList(v, path, 'pools', (rec, p) => {
    const gateway = optionalText(rec, 'Gateway', at(p, 'Gateway'));
    return {
      addressSpace: optionalText(rec, 'AddressSpace', at(p, 'AddressSpace')) ?? '',
      pool: optionalText(rec, 'Pool', at(p, 'Pool')) ?? '',
      ...(gateway === undefined ? {} : { gateway }),
    };
  });

const endpointIds = (rec: Record<string, unknown>): EndpointCall => ({ networkId: dockerId(rec, 'NetworkID'), endpointId: dockerId(rec, 'EndpointID') });

type Parser = (body: Record<string, unknown>) => DockerCall;

const NETWORK_DRIVER: Record<string, Parser> = {
  GetCapabilities: () => ({ kind: 'networkCapabilities' }),
  CreateNetwork: (b) => {
    const options = b['Options'] === undefined || b['Options'] === null ? {} : asRecord(b['Options'], 'Options');
    return {
      kind: 'createNetwork',
      networkId: dockerId(b, 'NetworkID'),
      generic: stringMap(options[GENERIC], at('Options', GENERIC)),
      ipv6: flag(options, 'com.docker.network.enable_ipv6'),
      internal: flag(options, 'com.docker.network.internal'),
      ipv4Data: ipData(b['IPv4Data'], 'IPv4Data'),
      ipv6Data: ipData(b['IPv6Data'], 'IPv6Data'),
    };
  },
  DeleteNetwork: (b) => ({ kind: 'deleteNetwork', networkId: dockerId(b, 'NetworkID') }),
  CreateEndpoint: (b) => {
    const iface = b['Interface'] === undefined || b['Interface'] === null ? {} : asRecord(b['Interface'], 'Interface');
    const address = optionalText(iface, 'Address', 'Interface.Address');
    const addressIpv6 = optionalText(iface, 'AddressIPv6', 'Interface.AddressIPv6');
    const mac = optionalText(iface, 'MacAddress', 'Interface.MacAddress');
    return {
      kind: 'createEndpoint',
      ...endpointIds(b),
      ...(address === undefined ? {} : { address }),
      ...(addressIpv6 === undefined ? {} : { addressIpv6 }),
      ...(mac === undefined ? {} : { mac }),
    };
  },
  DeleteEndpoint: (b) => ({ kind: 'deleteEndpoint', ...endpointIds(b) }),
  EndpointOperInfo: (b) => ({ kind: 'endpointInfo', ...endpointIds(b) }),
  Join: (b) => ({ kind: 'join', ...endpointIds(b), sandboxKey: requiredText(b, 'SandboxKey'), portmap: portmapOf(b) }),
  Leave: (b) => ({ kind: 'leave', ...endpointIds(b) }),
  ProgramExternalConnectivity: (b) => ({ kind: 'programExternalConnectivity', ...endpointIds(b), portmap: portmapOf(b) }),
  RevokeExternalConnectivity: (b) => ({ kind: 'revokeExternalConnectivity', ...endpointIds(b) }),
  DiscoverNew: () => ({ kind: 'discover' }),
  DiscoverDelete: () => ({ kind: 'discover' }),
};

const IPAM_DRIVER: Record<string, Parser> = {
  GetCapabilities: () => ({ kind: 'ipamCapabilities' }),
  GetDefaultAddressSpaces: () => ({ kind: 'addressSpaces' }),
  RequestPool: (b) => {
    const pool = optionalText(b, 'Pool');
    const subPool = optionalText(b, 'SubPool');
    return {
      kind: 'requestPool',
      addressSpace: optionalText(b, 'AddressSpace') ?? '',
      ...(pool === undefined ? {} : { pool }),
      ...(subPool === undefined ? {} : { subPool }),
      options: stringMap(b['Options'], 'Options'),
      v6: flag(b, 'V6'),
    };
  },
  ReleasePool: (b) => ({ kind: 'releasePool', poolId: requiredText(b, 'PoolID') }),
  RequestAddress: (b) => {
    const address = optionalText(b, 'Address');
    const options = stringMap(b['Options'], 'Options');
    return { kind: 'requestAddress', poolId: requiredText(b, 'PoolID'), ...(address === undefined ? {} : { address }), gateway: options['RequestAddressType'] === GATEWAY_REQUEST };
  },
  ReleaseAddress: (b) => ({ kind: 'releaseAddress', poolId: requiredText(b, 'PoolID'), address: requiredText(b, 'Address') }),
};

const API: Record<Api, Record<string, Parser>> = {
  Plugin: { Activate: () => ({ kind: 'activate' }) },
  NetworkDriver: NETWORK_DRIVER,
  IpamDriver: IPAM_DRIVER,
};

/** The calls Docker sends with an empty body; every other call carries one. */
const BODYLESS = new Set(['Plugin.Activate', 'NetworkDriver.GetCapabilities', 'IpamDriver.GetCapabilities', 'IpamDriver.GetDefaultAddressSpaces']);

/** The API a path belongs to, for the error key even when the method or body is bad. */
export const apiOf = (path: string): Api | undefined => {
  const name = /^\/([A-Za-z]+)\./.exec(path)?.[1];
  return name === 'Plugin' || name === 'NetworkDriver' || name === 'IpamDriver' ? name : undefined;
};

/** The path's call, from its body (empty only for the calls without one); 'notFound' for a method this plugin does not have. */
export const decodeCall = (path: string, body: string): DockerCall => {
  const api = apiOf(path);
  const method = path.slice(path.indexOf('.') + 1);
  const parse = api === undefined ? undefined : API[api][method];
  if (api === undefined || parse === undefined) {
    const known = Object.entries(API).flatMap(([a, methods]) => Object.keys(methods).map((m) => `${a}.${m}`));
    throw new TnetError('notFound', `${path}: tnet has no such call; it serves ${known.join(', ')}`, { target: path });
  }
  let value: unknown = {};
  if (body.trim() === '' && !BODYLESS.has(`${api}.${method}`)) {
    // Docker sends a call again when the plugin died before answering it, with the body the first
    // try consumed: an empty one. Decoded as {}, a RequestPool would quietly get some other subnet.
    throw new TnetError('busy', `${api}.${method} came without its body: Docker sends a call again with an empty body when the plugin restarted before answering it; run the docker command again`);
  }
  if (body.trim() !== '') {
    try {
      value = JSON.parse(body);
    } catch (e) {
      throw new TnetError('invalidInput', `${api}.${method}: the body is not JSON (${(e as Error).message})`);
    }
  }
  if (!isRecord(value)) throw new TnetError('invalidInput', `${api}.${method}: expected a JSON object, got ${describe(value)}`);
  try {
    return parse(value);
  } catch (e) {
    if (e instanceof TnetError) throw new TnetError(e.kind, `${api}.${method}: ${e.message}`, e.details);
    throw e;
  }
};

/** The error reply of an API: the key Docker reads there. */
export const errorReply = (api: Api | undefined, message: string): Record<string, string> => (api === 'IpamDriver' ? { Error: message } : { Err: message });
