/**
 * The attachment a runtime asks for: env + netconf -> what the service layer needs. Pure.
 * Requested addresses come from runtimeConfig.ips (the `ips` capability) or CNI_ARGS IP=; each
 * keeps the name of the field it came from so a refusal can name it.
 */
import { parseIp } from '../model/cidr.js';
import { dnsNameProblem } from '../model/dns-name.js';
import type { IpFamily, NetworkRequest } from '../model/types.js';
import type { CniEnv } from './env.js';
import { CNI_CODES, CniError } from './error-codes.js';
import type { NetConf } from './netconf.js';
import type { CniPortMapping } from './ports.js';
import type { CniResult } from './result.js';

export interface RequestedIp {
  readonly address: string;
  /** Where it came from, for messages: "runtimeConfig.ips[0]" or "CNI_ARGS IP". */
  readonly field: string;
}

export interface AttachRequest {
  readonly network: NetworkRequest;
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  readonly ipv4?: RequestedIp;
  readonly ipv6?: RequestedIp;
  readonly mac?: string;
  /** The container's DNS name (K8S_POD_NAME) and aliases (runtimeConfig.aliases). */
  readonly name?: string;
  readonly aliases: readonly string[];
  readonly portMappings: readonly CniPortMapping[];
  readonly prevResult?: CniResult;
  readonly dns: Readonly<Record<string, unknown>>;
}

/** CNI_ARGS keys tnet reads: K8S_POD_NAME is the container's name (Podman, Kubernetes runtimes). */
const KNOWN_ARGS = new Set(['IgnoreUnknown', 'IP', 'K8S_POD_NAME']);
const TRUE = new Set(['1', 'true']);

/** Checks CNI_ARGS: an unknown key is refused (code 2) unless IgnoreUnknown is true, as in libcni's types.LoadArgs. */
export const checkCniArgs = (args: ReadonlyMap<string, string>): void => {
  const ignore = TRUE.has((args.get('IgnoreUnknown') ?? '').toLowerCase());
  if (ignore) return;
  for (const [k, v] of args) {
    if (!KNOWN_ARGS.has(k)) {
      throw new CniError(CNI_CODES.unsupportedField, `CNI_ARGS: unknown argument ${k}=${v}; tnet knows ${[...KNOWN_ARGS].join(', ')} (set IgnoreUnknown=1 to skip others)`);
    }
  }
};

const requestedIps = (env: CniEnv, conf: NetConf): RequestedIp[] => {
  const fromRuntime = conf.runtime.ips.map((address, i) => ({ address, field: `runtimeConfig.ips[${i}]` }));
  const raw = env.args.get('IP');
  const fromArgs = raw === undefined || raw === '' ? [] : raw.split(',').map((s) => {
    try {
      return { address: parseIp(s.trim().split('/')[0] ?? '', 'CNI_ARGS IP').address, field: 'CNI_ARGS IP' };
    } catch (e) {
      throw new CniError(CNI_CODES.invalidEnv, (e as Error).message);
    }
  });
  return [...fromRuntime, ...fromArgs];
};

const pickFamily = (ips: readonly RequestedIp[], family: IpFamily): RequestedIp | undefined => {
  const of = ips.filter((ip) => ip.address.includes(':') === (family === 6));
  const [first, second] = of;
  if (second !== undefined && second.address !== first?.address) {
    throw new CniError(CNI_CODES.invalidNetworkConfig, `${second.field}: ${second.address} is a second IPv${family} address; a tnet endpoint has one address per family (${first?.field} gave ${first?.address})`);
  }
  return first;
};

/**
 * The container's name is its DNS name when it is one; a runtime's name that is not (Podman allows
 * a trailing '-', say) leaves the container reachable by address and aliases rather than failing it.
 */
const nameOf = (env: CniEnv): { name?: string } => {
  const name = env.args.get('K8S_POD_NAME');
  return name === undefined || dnsNameProblem(name) !== undefined ? {} : { name };
};

export const attachRequestOf = (env: CniEnv, conf: NetConf): AttachRequest => {
  checkCniArgs(env.args);
  const ips = requestedIps(env, conf);
  const ipv4 = pickFamily(ips, 4);
  const ipv6 = pickFamily(ips, 6);
  return {
    network: conf.network,
    // parseEnv guarantees these for ADD and CHECK.
    containerId: env.containerId ?? '',
    netns: env.netns ?? '',
    ifname: env.ifname ?? '',
    ...(ipv4 === undefined ? {} : { ipv4 }),
    ...(ipv6 === undefined ? {} : { ipv6 }),
    ...(conf.runtime.mac === undefined ? {} : { mac: conf.runtime.mac }),
    ...nameOf(env),
    aliases: conf.runtime.aliases,
    portMappings: conf.runtime.portMappings,
    ...(conf.prevResult === undefined ? {} : { prevResult: conf.prevResult }),
    dns: conf.dns,
  };
};
