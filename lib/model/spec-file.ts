/**
 * The declarative spec file (`tnet apply -f`): networks and their endpoints in YAML or JSON.
 * Everything wrong with the file is reported as invalidConfig with the file name and the path of
 * the field, or line:column when the YAML itself does not parse.
 */
import { parseDocument } from 'yaml';
import { TnetError } from '../errors.js';
import { asRecord, at, describe, inputError, onlyKeys } from './fields.js';
import { netnsPath, parseEndpointRequest, validateEndpointAgainstNetwork } from './endpoint-request.js';
import { parseNetworkRequest } from './network-request.js';
import type { EndpointRequest, NetworkRequest } from './types.js';
import { parseHostIdentity, type HostIdentity } from './host.js';

export interface SpecFile {
  readonly networks: Array<{ readonly request: NetworkRequest; readonly endpoints: EndpointRequest[] }>;
  /**
   * Static-peer mode (overlay without a shared store): this host and the other hosts, each with
   * its VTEP address. The same peer list goes into every host's file, with its own `host:`.
   */
  readonly cluster?: { readonly self: HostIdentity; readonly peers: readonly HostIdentity[] };
}

const configError = (path: string, problem: string): TnetError => inputError(path, problem, 'invalidConfig');

/** yaml's own guard against alias bombs, made explicit; a real spec file uses a handful. */
const MAX_ALIASES = 100;

const parseYaml = (text: string, fileName: string): unknown => {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const error = doc.errors[0];
  if (error !== undefined) {
    const pos = error.linePos?.[0];
    const where = pos === undefined ? fileName : `${fileName}:${pos.line}:${pos.col}`;
    // yaml's message repeats the position and a code excerpt after the first line; keep the first line.
    const message = error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? error.message;
    throw new TnetError('invalidConfig', `${where}: ${message}`, { op: 'parse', target: fileName });
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    // yaml refuses a document whose aliases would expand without bound (a "billion laughs").
    throw new TnetError('invalidConfig', `${fileName}: ${e instanceof Error ? e.message : String(e)} (at most ${MAX_ALIASES} alias expansions are allowed)`, { op: 'parse', target: fileName });
  }
};

const parseEndpoints = (v: unknown, network: NetworkRequest, where: string): EndpointRequest[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw configError(where, `expected a list of endpoints, got ${describe(v)}`);
  const seenNetns = new Map<string, string>();
  const seenIps = new Map<string, string>();
  return v.map((entry: unknown, j) => {
    const path = at(where, j);
    const rec = asRecord(entry, path);
    if (rec.network !== undefined) {
      throw configError(at(path, 'network'), `not allowed here; an endpoint joins the network it is listed under ("${network.name}")`);
    }
    const ep = parseEndpointRequest({ ...rec, network: network.name }, path);
    validateEndpointAgainstNetwork(ep, network, path);
    const ns = netnsPath(ep.netns);
    const twin = seenNetns.get(ns);
    if (twin !== undefined) throw configError(at(path, 'netns'), `netns ${ep.netns} is already attached to network "${network.name}" by ${twin}`);
    seenNetns.set(ns, path);
    for (const [field, ip] of [['ip', ep.ipv4], ['ip6', ep.ipv6]] as const) {
      if (ip === undefined) continue;
      const owner = seenIps.get(ip);
      if (owner !== undefined) throw configError(at(path, field), `address ${ip} is already given to ${owner}`);
      seenIps.set(ip, path);
    }
    return ep;
  });
};

const parseCluster = (host: unknown, peers: unknown): Pick<SpecFile, 'cluster'> => {
  if (host === undefined && peers === undefined) return {};
  if (host === undefined) throw configError('host', 'is required with peers: name this host and its VTEP address');
  const self = parseHostIdentity(host, 'host');
  if (peers !== undefined && !Array.isArray(peers)) throw configError('peers', `expected a list of {name, vtep}, got ${describe(peers)}`);
  const list = (peers ?? []).map((p: unknown, i: number) => parseHostIdentity(p, at('peers', i)));
  const names = new Set<string>();
  const vteps = new Set<string>();
  for (const [i, p] of [self, ...list].entries()) {
    const where = i === 0 ? 'host' : at('peers', i - 1);
    // The same list in every host's file is convenient: this host's own entry among peers is allowed if it matches.
    if (names.has(p.name) && !(p.name === self.name && p.vtep === self.vtep)) throw configError(at(where, 'name'), `host ${p.name} is listed twice`);
    if (vteps.has(p.vtep) && !(p.name === self.name && p.vtep === self.vtep)) throw configError(at(where, 'vtep'), `VTEP ${p.vtep} is given to two hosts`);
    names.add(p.name);
    vteps.add(p.vtep);
  }
  return { cluster: { self, peers: list.filter((p) => p.name !== self.name) } };
};

const parseSpec = (doc: unknown): SpecFile => {
  const top = asRecord(doc ?? {}, '');
  onlyKeys(top, ['networks', 'host', 'peers'], '');
  const cluster = parseCluster(top.host, top.peers);
  if (top.networks === undefined) return { networks: [], ...cluster };
  if (!Array.isArray(top.networks)) throw configError('networks', `expected a list of networks, got ${describe(top.networks)}`);
  const seen = new Map<string, string>();
  return {
    ...cluster,
    networks: top.networks.map((entry: unknown, i) => {
      const path = at('networks', i);
      const request = parseNetworkRequest(entry, path, ['endpoints']);
      const twin = seen.get(request.name);
      if (twin !== undefined) throw configError(at(path, 'name'), `network "${request.name}" is already defined at ${twin}`);
      seen.set(request.name, path);
      return { request, endpoints: parseEndpoints(asRecord(entry, path).endpoints, request, at(path, 'endpoints')) };
    }),
  };
};

export const parseSpecFile = (text: string, fileName: string): SpecFile => {
  const doc = parseYaml(text, fileName);
  try {
    return parseSpec(doc);
  } catch (e) {
    if (!(e instanceof TnetError)) throw e;
    // Input errors found inside a file are errors in the file, whichever parser detected them.
    const kind = e.kind === 'invalidInput' ? 'invalidConfig' : e.kind;
    throw new TnetError(kind, `${fileName}: ${e.message}`, { ...e.details, cause: e });
  }
};
