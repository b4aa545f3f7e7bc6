/**
 * /etc/netns/NAME/resolv.conf for namespaces attached with `tnet connect` (or `apply`) under
 * /run/netns: the gateways of the namespace's DNS-enabled networks, first network first, so
 * `ip netns exec NAME …` resolves container names through tnet's DNS server. Handled like a kernel
 * object: wanted from the records, observed, planned, applied by the pass, and removed (by the
 * pass that takes the last such endpoint down) before its record is forgotten. A file tnet did
 * not write is never touched. Runtimes' containers (CNI) learn the server from the result instead.
 */
import { isOurResolvConf, renderResolvConf } from '../dns/resolv-conf.js';
import type { Kernel } from '../kernel/types.js';
import { NETNS_ETC_DIR } from '../kernel/netns-etc.js';
import { servesDns } from '../model/dns-name.js';
import type { Endpoint, Network } from '../model/types.js';
import type { Action } from './actions.js';
import type { Departing, DesiredNetwork } from './desired.js';
import type { Scope } from './observe.js';

export const RESOLV_CONF = 'resolv.conf';
const RUN_NETNS = '/run/netns/';

/** The name of a namespace under /run/netns, which `ip netns exec` knows it by. */
const namedNetns = (e: Endpoint): string | undefined => {
  if (e.owner.kind !== 'cli' || !e.netns.startsWith(RUN_NETNS)) return undefined;
  const name = e.netns.slice(RUN_NETNS.length);
  return name === '' || name.includes('/') ? undefined : name;
};

/** The file each named namespace should have; a namespace not listed should have none of ours. */
export const wantedResolvConfs = (desired: readonly DesiredNetwork[]): Map<string, string> => {
  const joined = new Map<string, Array<{ metric: number; network: Network }>>();
  for (const { network, endpoints } of desired.filter((d) => servesDns(d.network))) {
    for (const { endpoint } of endpoints) {
      const name = namedNetns(endpoint);
      if (name === undefined) continue;
      joined.set(name, [...(joined.get(name) ?? []), { metric: endpoint.routeMetric, network }]);
    }
  }
  return new Map([...joined].map(([name, list]) => {
    const networks = list.sort((a, b) => a.metric - b.metric).map((x) => x.network);
    const nameservers = [...networks.map((n) => n.ipv4?.gateway), ...networks.map((n) => n.ipv6?.gateway)].filter((g) => g !== undefined);
    return [name, renderResolvConf(nameservers)];
  }));
};

/** The namespaces a pass looks at: those of its endpoints in scope, and of endpoints departing. */
export const resolvConfNamespaces = (desired: readonly DesiredNetwork[], departed: Departing, scope: Scope): string[] => {
  const inScope = desired.flatMap((d) => d.endpoints.map((x) => x.endpoint)).filter((e) => scope === 'all' || scope.endpoints.has(e.id));
  return [...new Set([...inScope, ...departed.endpoints].flatMap((e) => namedNetns(e) ?? []))];
};

export const observeResolvConfs = (kernel: Kernel, namespaces: readonly string[]): Map<string, string | undefined> =>
  new Map(namespaces.map((n) => [n, kernel.etc.read(n, RESOLV_CONF)]));

export const planResolvConfs = (
  wanted: ReadonlyMap<string, string>,
  observed: ReadonlyMap<string, string | undefined>,
): { actions: Action[]; notes: string[] } => {
  const actions: Action[] = [];
  const notes: string[] = [];
  for (const [namespace, have] of observed) {
    const want = wanted.get(namespace);
    if (have !== undefined && !isOurResolvConf(have)) {
      if (want !== undefined) notes.push(`${NETNS_ETC_DIR}/${namespace}/${RESOLV_CONF} was not written by tnet and is left as it is: ip netns exec ${namespace} uses it, not tnet's DNS server`);
      continue;
    }
    if (want === undefined && have !== undefined) actions.push({ do: 'removeNetnsFile', namespace, file: RESOLV_CONF });
    else if (want !== undefined && have !== want) actions.push({ do: 'writeNetnsFile', namespace, file: RESOLV_CONF, text: want, ...(have === undefined ? {} : { previous: have }) });
  }
  return { actions, notes };
};
