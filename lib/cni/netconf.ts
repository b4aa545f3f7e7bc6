/**
 * A plugin's network configuration (stdin), typed. It carries the CNI fields (cniVersion, name,
 * type, runtimeConfig, prevResult, …), the options of `tnet create` for the network it names, and
 * where tnet keeps its state. Pure. Problems become CniErrors with the spec's codes: 6 when stdin
 * is not JSON, 1 for a version tnet does not speak, 2 for a field it does not know, 7 otherwise.
 */
import { isTnetError } from '../errors.js';
import { parseIp } from '../model/cidr.js';
import { asString, at, describe, isRecord } from '../model/fields.js';
import { parseAliases } from '../model/endpoint-request.js';
import { validateMac } from '../model/names.js';
import { NETWORK_FIELDS, parseNetworkRequest } from '../model/network-request.js';
import type { NetworkRequest } from '../model/types.js';
import { CNI_CODES, CniError } from './error-codes.js';
import { parsePortMappings, type CniPortMapping } from './ports.js';
import { parsePrevResult, type CniResult } from './result.js';
import { isSupportedVersion, SUPPORTED_VERSIONS, type CniVersion } from './versions.js';

export const PLUGIN_TYPE = 'tnet';

/** Fields of the CNI spec (and its conventions) that any plugin may receive. */
const CNI_FIELDS = ['cniVersion', 'name', 'type', 'capabilities', 'runtimeConfig', 'prevResult', 'args', 'dns', 'cni.dev/valid-attachments'] as const;
/** tnet's own: where the state is, and which namespace is the host (lab hosts and tests). */
const TNET_FIELDS = ['stateDir', 'store', 'hostNetns'] as const;
const NETWORK_OPTION_FIELDS = NETWORK_FIELDS.filter((f) => f !== 'name');

export interface Attachment {
  readonly containerId: string;
  readonly ifname: string;
}

export interface NetConf {
  readonly cniVersion: CniVersion;
  readonly name: string;
  /** The network as `tnet create` would take it; fields the config leaves out stay unset. */
  readonly network: NetworkRequest;
  readonly stateDir?: string;
  readonly store?: string;
  readonly hostNetns?: string;
  readonly dns: Readonly<Record<string, unknown>>;
  readonly runtime: {
    readonly ips: readonly string[];
    readonly mac?: string;
    readonly portMappings: readonly CniPortMapping[];
    /** The `aliases` capability: this network's entry of runtimeConfig.aliases ({network: [alias, …]}). */
    readonly aliases: readonly string[];
  };
  readonly prevResult?: CniResult;
  /** GC: the attachments the runtime still uses. */
  readonly validAttachments?: readonly Attachment[];
}

const config = (message: string): CniError => new CniError(CNI_CODES.invalidNetworkConfig, message);

/** Far above any real network configuration, far below what could exhaust the plugin. */
export const MAX_STDIN_BYTES = 1 << 20;
export const MAX_JSON_DEPTH = 64;

/** How deeply arrays and objects nest in a JSON text (strings skipped), without parsing it. */
const nestingOf = (text: string): number => {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') deepest = Math.max(deepest, ++depth);
    else if (c === '}' || c === ']') depth--;
  }
  return deepest;
};

export const decodeStdin = (stdin: string): Record<string, unknown> => {
  if (stdin.trim() === '') throw new CniError(CNI_CODES.decodeFailure, 'stdin: the network configuration is empty');
  const bytes = Buffer.byteLength(stdin);
  if (bytes > MAX_STDIN_BYTES) throw new CniError(CNI_CODES.decodeFailure, `stdin: the network configuration has ${bytes} bytes; at most ${MAX_STDIN_BYTES} are allowed`);
  const depth = nestingOf(stdin);
  if (depth > MAX_JSON_DEPTH) throw new CniError(CNI_CODES.decodeFailure, `stdin: the network configuration nests ${depth} levels deep; at most ${MAX_JSON_DEPTH} are allowed`);
  let v: unknown;
  try {
    v = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CNI_CODES.decodeFailure, `stdin: malformed JSON: ${(e as Error).message}`);
  }
  if (!isRecord(v)) throw new CniError(CNI_CODES.decodeFailure, `stdin: expected a JSON object, got ${describe(v)}`);
  return v;
};

export const parseVersion = (raw: unknown): CniVersion => {
  if (raw === undefined) throw config(`cniVersion: is required; supported versions: ${SUPPORTED_VERSIONS.join(', ')}`);
  if (typeof raw !== 'string') throw config(`cniVersion: expected a string, got ${describe(raw)}`);
  if (!isSupportedVersion(raw)) {
    throw new CniError(CNI_CODES.incompatibleVersion, `cniVersion: ${JSON.stringify(raw)} is not supported; supported versions: ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  return raw;
};

/** Runs a model parser, turning its input error into code 7 (the message already names the field). */
const asConfig = <T>(fn: () => T): T => {
  try {
    return fn();
  } catch (e) {
    if (isTnetError(e, 'invalidInput') || isTnetError(e, 'invalidConfig')) throw config(e.message);
    throw e;
  }
};

const parseIps = (v: unknown, path: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw config(`${path}: expected a list of addresses, got ${describe(v)}`);
  // Conventions: "10.1.0.5/24"; the prefix is the network's, so only the address counts.
  return v.map((item, i) => asConfig(() => parseIp(asString(item, at(path, i)).split('/')[0] ?? '', at(path, i)).address));
};

const parseRuntimeAliases = (v: unknown, network: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!isRecord(v)) throw config(`runtimeConfig.aliases: expected a mapping of network names to lists of aliases, got ${describe(v)}`);
  const mine = v[network];
  return mine === undefined || mine === null ? [] : asConfig(() => parseAliases(mine, `runtimeConfig.aliases.${network}`));
};

const parseRuntime = (v: unknown, network: string): NetConf['runtime'] => {
  if (v === undefined) return { ips: [], portMappings: [], aliases: [] };
  if (!isRecord(v)) throw config(`runtimeConfig: expected an object, got ${describe(v)}`);
  const mac = v['mac'] === undefined ? undefined : asConfig(() => validateMac(asString(v['mac'], 'runtimeConfig.mac'), 'runtimeConfig.mac'));
  return {
    ips: parseIps(v['ips'], 'runtimeConfig.ips'),
    ...(mac === undefined ? {} : { mac }),
    portMappings: asConfig(() => parsePortMappings(v['portMappings'], 'runtimeConfig.portMappings')),
    aliases: parseRuntimeAliases(v['aliases'], network),
  };
};

const parseAttachments = (v: unknown): Attachment[] | undefined => {
  if (v === undefined) return undefined;
  const path = 'cni.dev/valid-attachments';
  if (!Array.isArray(v)) throw config(`${path}: expected a list, got ${describe(v)}`);
  return v.map((item, i) => {
    if (!isRecord(item) || typeof item['containerID'] !== 'string' || typeof item['ifname'] !== 'string') {
      throw config(`${path}[${i}]: expected {"containerID": "...", "ifname": "..."}`);
    }
    return { containerId: item['containerID'], ifname: item['ifname'] };
  });
};

const optionalString = (v: unknown, path: string): string | undefined => (v === undefined ? undefined : asConfig(() => asString(v, path)));

export const parseNetConf = (raw: Record<string, unknown>): NetConf => {
  const cniVersion = parseVersion(raw['cniVersion']);
  const allowed: readonly string[] = [...CNI_FIELDS, ...TNET_FIELDS, ...NETWORK_OPTION_FIELDS];
  for (const [key, value] of Object.entries(raw)) {
    if (!allowed.includes(key)) {
      const why = key === 'ipam' ? ': tnet allocates addresses itself; give subnet/gateway/ipRange instead' : '';
      throw new CniError(CNI_CODES.unsupportedField, `${key}: unsupported field (value ${JSON.stringify(value)})${why}; tnet takes ${[...TNET_FIELDS, ...NETWORK_OPTION_FIELDS].join(', ')}`);
    }
  }
  if (raw['type'] !== PLUGIN_TYPE) throw config(`type: ${JSON.stringify(raw['type'])} is not this plugin; expected ${JSON.stringify(PLUGIN_TYPE)}`);
  if (raw['name'] === undefined) throw config('name: is required (the tnet network to attach to)');
  const networkFields = Object.fromEntries(NETWORK_OPTION_FIELDS.filter((k) => raw[k] !== undefined).map((k) => [k, raw[k]]));
  const network = asConfig(() => parseNetworkRequest({ name: raw['name'], ...networkFields }, ''));
  const stateDir = optionalString(raw['stateDir'], 'stateDir');
  if (stateDir !== undefined && !stateDir.startsWith('/')) throw config(`stateDir: ${JSON.stringify(stateDir)} is not an absolute path`);
  const store = optionalString(raw['store'], 'store');
  const hostNetns = optionalString(raw['hostNetns'], 'hostNetns');
  const dns = raw['dns'] === undefined ? {} : isRecord(raw['dns']) ? raw['dns'] : {};
  const validAttachments = parseAttachments(raw['cni.dev/valid-attachments']);
  return {
    cniVersion,
    name: network.name,
    network,
    ...(stateDir === undefined ? {} : { stateDir }),
    ...(store === undefined ? {} : { store }),
    ...(hostNetns === undefined ? {} : { hostNetns }),
    dns,
    runtime: parseRuntime(raw['runtimeConfig'], network.name),
    ...(raw['prevResult'] === undefined ? {} : { prevResult: parsePrevResult(raw['prevResult']) }),
    ...(validAttachments === undefined ? {} : { validAttachments }),
  };
};
