/**
 * DNS names of endpoints (`--name`, `--alias`, a runtime's container name). Pure.
 *
 * What is allowed: one or more labels separated by '.', each 1 to 63 letters, digits, '-' and
 * '_', not starting or ending with '-' (RFC 1123 host name labels, plus '_', which Docker and
 * Podman container names use), at most 253 characters in all. Names compare case-insensitively,
 * as DNS does; they are kept as given.
 */
import { inputError } from './fields.js';
import { isAddressedDriver, type Network } from './types.js';

/** Whether tnet's DNS server serves a network's containers: it has a gateway, and --dns=false was not given. */
export const servesDns = (n: Network): boolean => n.dnsEnabled !== false && isAddressedDriver(n.driver);

export const DNS_NAME_MAX = 253;
const LABEL_MAX = 63;
const LABEL = /^[a-zA-Z0-9_](?:[a-zA-Z0-9_-]*[a-zA-Z0-9_])?$/;

/** Why s is not a DNS name tnet accepts, or undefined when it is one. */
export const dnsNameProblem = (s: string): string | undefined => {
  if (s.length === 0) return 'is empty';
  if (s.length > DNS_NAME_MAX) return `has ${s.length} characters; at most ${DNS_NAME_MAX} are allowed`;
  for (const label of s.split('.')) {
    if (label === '') return "has an empty label (a leading, trailing or doubled '.')";
    if (label.length > LABEL_MAX) return `has a label of ${label.length} characters; at most ${LABEL_MAX} are allowed per label`;
    if (!LABEL.test(label)) return `has the label ${JSON.stringify(label)}; labels take letters, digits, '-' and '_', and do not start or end with '-'`;
  }
  return undefined;
};

/** Returns the name unchanged, or refuses it with a message naming it and what is allowed. */
export const validateDnsName = (s: string, path: string, what: 'name' | 'alias'): string => {
  const problem = dnsNameProblem(s);
  if (problem !== undefined) throw inputError(path, `${what} ${JSON.stringify(s)} is not a DNS name: it ${problem}`);
  return s;
};

/** The case-insensitive form names are compared and looked up in. */
export const dnsKey = (name: string): string => name.toLowerCase();

const RUN_NETNS = '/run/netns/';

/**
 * The name an endpoint gets when none is given: its namespace's name under /run/netns, when that
 * is a DNS name (a PID or another path gives none).
 */
export const defaultNameOfNetns = (netnsPath: string): string | undefined => {
  if (!netnsPath.startsWith(RUN_NETNS)) return undefined;
  const base = netnsPath.slice(RUN_NETNS.length);
  return base.includes('/') || dnsNameProblem(base) !== undefined ? undefined : base;
};

interface NameHolder {
  readonly netns: string;
  readonly name?: string;
  readonly aliases: readonly string[];
}

/**
 * Within one network a name belongs to one endpoint: no other may hold it as its name or as an
 * alias. Aliases may be shared (they resolve to every holder, as Docker's network aliases do),
 * but not with another endpoint's name. Returns why `e` cannot join `others` (the network's
 * other endpoints, on every host), or undefined.
 */
export const nameClash = (e: Omit<NameHolder, 'netns'>, others: readonly NameHolder[], network: string): string | undefined => {
  if (e.name !== undefined) {
    const key = dnsKey(e.name);
    const holder = others.find((p) => (p.name !== undefined && dnsKey(p.name) === key) || p.aliases.some((a) => dnsKey(a) === key));
    if (holder !== undefined) {
      return `name ${JSON.stringify(e.name)} is already taken on network ${network} by ${holder.netns}; give another one with --name`;
    }
  }
  for (const alias of e.aliases) {
    const holder = others.find((p) => p.name !== undefined && dnsKey(p.name) === dnsKey(alias));
    if (holder !== undefined) return `alias ${JSON.stringify(alias)} is the name of ${holder.netns} on network ${network}; choose another alias`;
  }
  return undefined;
};
