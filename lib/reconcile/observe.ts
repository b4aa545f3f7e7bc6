/**
 * Reads the kernel state a plan depends on. A container namespace is read only when its endpoint
 * is in scope (or, in a full pass, when its host-side veth is missing), so attaching one
 * container does not cost a visit to every other.
 */
import { isTnetError } from '../errors.js';
import { signatureOfListed } from '../firewall/encode.js';
import { elementsOfListed, type NftElement } from '../firewall/forwards.js';
import { TABLE_FAMILY, TABLE_NAME } from '../firewall/types.js';
import type { Kernel, LinkState } from '../kernel/types.js';
import { hostLinkNames, type DesiredEndpoint, type DesiredNetwork } from './desired.js';
import type { ObservedEndpoint, ObservedHost, ObservedNamespace } from './observed.js';

/**
 * What a pass looks at. 'all' reads every link on the host (finding drift anywhere, and our
 * stale links); a scoped pass reads only the named links it needs (the networks' bridges, the
 * endpoints in scope and links known to be going away), so its cost does not grow with the
 * number of containers on the host.
 */
export type Scope =
  | 'all'
  | {
      readonly endpoints: ReadonlySet<string>;
      readonly goneLinks?: readonly string[];
      /** Endpoints whose host side alone is checked (the daemon saw their veth change); their namespace is read only if the veth is gone. */
      readonly hostSides?: ReadonlySet<string>;
    };

/** A sysctl of a link that does not exist yet (a bridge this pass creates) reads as unset. */
const readSysctlOrUnset = (kernel: Kernel, key: string): string => {
  try {
    return kernel.readSysctl(kernel.hostNetns, key).trim();
  } catch (e) {
    if (isTnetError(e, 'notFound')) return '';
    throw e;
  }
};

/**
 * Our table without map elements, plus the elements of its plain sets (a few bridge names), so
 * the structure signature costs the same with 10 000 published ports as with none.
 */
const observeTable = (kernel: Kernel): unknown[] | undefined => {
  const items = kernel.nft.listTable(TABLE_FAMILY, TABLE_NAME, { elements: false });
  if (items === undefined) return undefined;
  return items.map((item) => {
    const set = (item as { set?: { name: string } }).set;
    if (set === undefined) return item;
    return kernel.nft.listSet(TABLE_FAMILY, TABLE_NAME, set.name, 'set')?.find((i) => 'set' in (i as object)) ?? item;
  });
};

const observeForwardElements = (kernel: Kernel, items: readonly unknown[]): NftElement[] =>
  items.flatMap((item) => {
    const map = (item as { map?: { name: string } }).map;
    return map === undefined ? [] : (kernel.nft.listSet(TABLE_FAMILY, TABLE_NAME, map.name, 'map') ?? []).flatMap(elementsOfListed);
  });

const observeNamespace = async (kernel: Kernel, path: string): Promise<ObservedEndpoint> => {
  let handle;
  try {
    handle = kernel.openNetns(path);
  } catch (e) {
    if (isTnetError(e, 'notFound')) return { state: 'netnsGone' };
    throw e;
  }
  const session = kernel.sessionIn(handle);
  try {
    const [links, addresses, routes4, routes6] = await Promise.all([
      session.listLinks(),
      session.listAddresses(),
      session.listRoutes(4),
      session.listRoutes(6),
    ]);
    return { state: 'present', ns: { links, addresses, routes: [...routes4, ...routes6] } };
  } finally {
    session.close();
    handle.close();
  }
};

const inScope = (d: DesiredEndpoint, scope: Scope): boolean => scope === 'all' || scope.endpoints.has(d.endpoint.id);

/**
 * Whose host side a pass checks: the endpoints in scope, those whose veth the daemon saw change,
 * and every port of a bridge that is missing, since the pass that creates the bridge again must
 * also put all of its ports back on it (a bridge that goes takes its ports off one by one, and a
 * pass may start before the events of most of them are read).
 */
const hostSideFilter = (scope: Scope, missingBridges: ReadonlySet<string>) => (d: DesiredEndpoint): boolean =>
  inScope(d, scope) ||
  (scope !== 'all' && scope.hostSides?.has(d.endpoint.id) === true) ||
  (d.objects.kind === 'veth' && missingBridges.has(d.objects.hostVeth.master));

/** In a full pass, a namespace is visited when in scope or when its host side is missing. */
const needsLook = (d: DesiredEndpoint, scope: Scope, hostLinks: ReadonlySet<string>): boolean =>
  d.objects.kind !== 'shareHost' &&
  (scope === 'all' ? true : inScope(d, scope) || (d.objects.kind === 'veth' && !hostLinks.has(d.objects.hostVeth.name)));

/** Past this many names one dump of every link is cheaper than a lookup each (the daemon re-enslaving a bridge's ports). */
const LOOKUPS_BEFORE_DUMP = 32;

const linksNamed = async (kernel: Kernel, names: ReadonlySet<string>): Promise<LinkState[]> => {
  if (names.size > LOOKUPS_BEFORE_DUMP) return (await kernel.host.listLinks()).filter((l) => names.has(l.name));
  const links = [];
  for (const name of names) links.push(await kernel.host.getLink(name));
  return links.filter((l): l is LinkState => l !== undefined);
};

/** The host links a pass reads, and which endpoints' host sides it checks. */
const hostLinksFor = async (kernel: Kernel, desired: readonly DesiredNetwork[], scope: Scope): Promise<{ links: LinkState[]; hostSide: (d: DesiredEndpoint) => boolean }> => {
  if (scope === 'all') return { links: await kernel.host.listLinks(), hostSide: () => true };
  const networkLinks = await linksNamed(kernel, new Set(hostLinkNames(desired, () => false)));
  const found = new Set(networkLinks.map((l) => l.name));
  const missing = new Set(desired.flatMap(({ objects }) => (objects.bridge && !found.has(objects.bridge.name) ? [objects.bridge.name] : [])));
  const hostSide = hostSideFilter(scope, missing);
  const others = new Set([...hostLinkNames(desired, hostSide), ...(scope.goneLinks ?? [])].filter((n) => !found.has(n)));
  return { links: [...networkLinks, ...(await linksNamed(kernel, others))], hostSide };
};

export const observeHost = async (
  kernel: Kernel,
  desired: readonly DesiredNetwork[],
  scope: Scope,
  readForwards = scope === 'all',
): Promise<ObservedHost> => {
  const { links, hostSide } = await hostLinksFor(kernel, desired, scope);
  const addresses = await kernel.host.listAddresses();
  const host: ObservedNamespace = { links, addresses, routes: [] };
  const hostLinks = new Set(links.map((l) => l.name));

  const sysctls = new Map<string, string>();
  for (const { objects } of desired) {
    for (const { key } of objects.sysctls) sysctls.set(key, readSysctlOrUnset(kernel, key));
  }

  const listed = observeTable(kernel);
  const endpoints = new Map<string, ObservedEndpoint>();
  for (const { endpoints: eps } of desired) {
    for (const d of eps) {
      if (!hostSide(d)) endpoints.set(d.endpoint.id, { state: 'outOfScope' });
      else if (needsLook(d, scope, hostLinks) && 'netns' in d.objects) {
        endpoints.set(d.endpoint.id, await observeNamespace(kernel, d.objects.netns));
      }
    }
  }
  const forwardElements = readForwards ? (listed === undefined ? [] : observeForwardElements(kernel, listed)) : undefined;
  // FDB and neighbour dumps grow with every remote endpoint: only worth it when VXLAN is involved.
  const overlay = desired.some(({ objects }) => objects.vxlan !== undefined) || links.some((l) => l.kind === 'vxlan');
  const entries = overlay
    ? await Promise.all([kernel.host.listFdb(), kernel.host.listNeighbours(4), kernel.host.listNeighbours(6)])
    : undefined;
  return {
    host,
    sysctls,
    firewall: listed === undefined ? undefined : signatureOfListed(listed),
    endpoints,
    ...(forwardElements === undefined ? {} : { forwardElements }),
    ...(entries === undefined ? {} : { fdb: entries[0], neighbours: [...entries[1], ...entries[2]] }),
  };
};
