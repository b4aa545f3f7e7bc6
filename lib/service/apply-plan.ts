/**
 * The declarative front door's plan: a spec file against what the store records. Pure. Networks
 * a file created carry the label APPLIED_FROM_LABEL = the file's path, so removing a network from
 * that file deletes it, while networks made by hand or by other files are left alone: a file
 * that names one of them is refused, unless the user adopts it (the label is then added in place).
 * A record whose creation was interrupted is planned as a create: running it finishes the record.
 */
import type { SpecFile } from '../model/spec-file.js';
import type { Endpoint, EndpointRequest, Network, NetworkRequest, PortMapping } from '../model/types.js';
import { formatPortMapping } from '../model/ports.js';
import { netnsPath } from '../kernel/netns.js';
import { RESERVED_LABEL_PREFIX } from '../model/network-request.js';
import { TnetError } from '../errors.js';

export const APPLIED_FROM_LABEL = `${RESERVED_LABEL_PREFIX}applied-from`;

export type SpecChange =
  | { readonly op: 'createNetwork'; readonly request: NetworkRequest }
  | { readonly op: 'replaceNetwork'; readonly request: NetworkRequest; readonly current: Network; readonly why: string }
  /** Only the labels differ (labels mean nothing to the kernel): rewritten in place. */
  | { readonly op: 'relabelNetwork'; readonly current: Network; readonly labels: Readonly<Record<string, string>> }
  | { readonly op: 'deleteNetwork'; readonly current: Network }
  | { readonly op: 'connect'; readonly request: EndpointRequest }
  | { readonly op: 'reconnect'; readonly request: EndpointRequest; readonly current: Endpoint; readonly why: string }
  | { readonly op: 'disconnect'; readonly current: Endpoint }
  /** Only the published ports differ: changed in place, the endpoint stays connected. */
  | { readonly op: 'setPorts'; readonly current: Endpoint; readonly ports: readonly PortMapping[] };

export const describeChange = (c: SpecChange): string => {
  switch (c.op) {
    case 'createNetwork':
      return `+ network ${c.request.name} (${c.request.driver}): create`;
    case 'replaceNetwork':
      return `-/+ network ${c.current.name}: replace (${c.why})`;
    case 'relabelNetwork':
      return `~ network ${c.current.name}: labels ${JSON.stringify(c.current.labels)} -> ${JSON.stringify(c.labels)}`;
    case 'deleteNetwork':
      return `- network ${c.current.name}: delete`;
    case 'connect':
      return `+ endpoint ${c.request.netns} on ${c.request.network}: connect`;
    case 'reconnect':
      return `-/+ endpoint ${c.current.netns} on ${c.current.network}: reconnect (${c.why})`;
    case 'disconnect':
      return `- endpoint ${c.current.netns} on ${c.current.network}: disconnect`;
    case 'setPorts':
      return `~ endpoint ${c.current.netns} on ${c.current.network}: ports ${portsText(c.current.ports ?? [])} -> ${portsText(c.ports)}`;
  }
};

const portsText = (ports: readonly PortMapping[]): string => (ports.length === 0 ? 'none' : ports.map(formatPortMapping).join(', '));
const samePorts = (a: readonly PortMapping[] | undefined, b: readonly PortMapping[] | undefined): boolean =>
  portsText(a ?? []) === portsText(b ?? []);

const sameOrUnset = (want: string | number | boolean | undefined, have: string | number | boolean | undefined): boolean =>
  want === undefined || want === have;

/** Why a recorded network does not match its request, or undefined when it does. */
const networkDrift = (req: NetworkRequest, cur: Network): string | undefined => {
  const checks: Array<[string, boolean]> = [
    ['driver', req.driver === cur.driver],
    ['subnet', sameOrUnset(req.ipv4?.subnet, cur.ipv4?.subnet)],
    ['gateway', sameOrUnset(req.ipv4?.gateway, cur.ipv4?.gateway)],
    ['ip range', sameOrUnset(req.ipv4?.ipRange, cur.ipv4?.ipRange)],
    ['ipv6', (req.ipv6 !== undefined) === (cur.ipv6 !== undefined)],
    ['ipv6 subnet', sameOrUnset(req.ipv6?.subnet, cur.ipv6?.subnet)],
    ['internal', (req.internal ?? false) === cur.internal],
    ['mtu', sameOrUnset(req.mtu, cur.mtu)],
    ['bridge name', req.options?.bridgeName === cur.options.bridgeName],
    ['vni', sameOrUnset(req.vni, cur.overlay?.vni)],
    ['dnsEnabled', (req.dnsEnabled ?? true) === (cur.dnsEnabled ?? true)],
  ];
  const changed = checks.filter(([, same]) => !same).map(([what]) => what);
  return changed.length === 0 ? undefined : `${changed.join(', ')} changed`;
};

const endpointDrift = (req: EndpointRequest, cur: Endpoint): string | undefined => {
  const checks: Array<[string, boolean]> = [
    ['ifname', sameOrUnset(req.ifname, cur.ifname)],
    ['ip', sameOrUnset(req.ipv4, cur.ipv4)],
    ['ip6', sameOrUnset(req.ipv6, cur.ipv6)],
    ['mac', sameOrUnset(req.mac, cur.mac)],
    ['name', sameOrUnset(req.name, cur.name)],
    ['aliases', JSON.stringify(req.aliases ?? []) === JSON.stringify(cur.aliases)],
  ];
  const changed = checks.filter(([, same]) => !same).map(([what]) => what);
  return changed.length === 0 ? undefined : `${changed.join(', ')} changed`;
};

/** Adds the source label that lets a later apply of the same file delete what it no longer lists. */
export const labelledRequest = (req: NetworkRequest, source: string): NetworkRequest => ({
  ...req,
  labels: { ...req.labels, [APPLIED_FROM_LABEL]: source },
});

const sameLabels = (a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean =>
  JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b).sort());

/** A network the spec names that this file did not create: refused unless adopted. */
const notOurs = (n: Network, source: string): TnetError => {
  const maker = n.labels[APPLIED_FROM_LABEL];
  const by = maker === undefined ? 'with tnet create (or by a runtime)' : `by another spec file, ${maker}`;
  return new TnetError('conflict', `network ${n.name} was made ${by}, not by ${source}; apply leaves such networks alone: rename it in the file, or run apply with --adopt to let this file manage it (and delete it once the file no longer lists it)`, { target: n.name });
};

export const planSpec = (
  spec: SpecFile,
  source: string,
  networks: readonly Network[],
  endpoints: readonly Endpoint[],
  adopt = false,
): SpecChange[] => {
  const changes: SpecChange[] = [];
  const listed = new Set(spec.networks.map((n) => n.request.name));
  for (const n of networks) {
    if (n.labels[APPLIED_FROM_LABEL] === source && !listed.has(n.name)) changes.push({ op: 'deleteNetwork', current: n });
  }
  for (const entry of spec.networks) {
    const request = labelledRequest(entry.request, source);
    const recorded = networks.find((n) => n.name === request.name);
    if (recorded !== undefined && recorded.labels[APPLIED_FROM_LABEL] !== source && !adopt) throw notOurs(recorded, source);
    const current = recorded?.phase === 'creating' ? undefined : recorded;
    const why = current && networkDrift(request, current);
    if (!current) changes.push({ op: 'createNetwork', request });
    else if (why) changes.push({ op: 'replaceNetwork', request, current, why });
    else if (!sameLabels(request.labels, current.labels)) changes.push({ op: 'relabelNetwork', current, labels: request.labels ?? {} });
    const attached = current && !why ? endpoints.filter((e) => e.network === current.name && e.owner.kind === 'cli') : [];
    const wanted = new Set(entry.endpoints.map((e) => netnsPath(e.netns)));
    for (const e of attached) if (!wanted.has(e.netns)) changes.push({ op: 'disconnect', current: e });
    for (const req of entry.endpoints) {
      const cur = attached.find((e) => e.netns === netnsPath(req.netns));
      const drift = cur && endpointDrift(req, cur);
      if (!cur || cur.phase === 'creating') changes.push({ op: 'connect', request: req });
      else if (drift) changes.push({ op: 'reconnect', request: req, current: cur, why: drift });
      else if (!samePorts(req.ports, cur.ports)) changes.push({ op: 'setPorts', current: cur, ports: req.ports ?? [] });
    }
  }
  return changes;
};
