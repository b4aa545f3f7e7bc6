/**
 * Reads the kernel state a plan depends on. The host namespace is always read in full (our links
 * are found by owner tag); a container namespace is read only when its endpoint is in scope or
 * its host-side veth is missing, so attaching one container does not cost a visit to every other.
 */
import { isTnetError } from '../errors.js';
import { signatureOfListed } from '../firewall/encode.js';
import { TABLE_FAMILY, TABLE_NAME } from '../firewall/types.js';
import type { Kernel } from '../kernel/types.js';
import type { DesiredEndpoint, DesiredNetwork } from './desired.js';
import type { ObservedEndpoint, ObservedHost, ObservedNamespace } from './observed.js';

export type EndpointScope = 'all' | ReadonlySet<string>;

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

const needsLook = (d: DesiredEndpoint, scope: EndpointScope, hostLinks: ReadonlySet<string>): boolean => {
  if (d.objects.kind === 'shareHost') return false;
  if (scope === 'all' || scope.has(d.endpoint.id)) return true;
  return d.objects.kind === 'veth' && !hostLinks.has(d.objects.hostVeth.name);
};

export const observeHost = async (kernel: Kernel, desired: readonly DesiredNetwork[], scope: EndpointScope): Promise<ObservedHost> => {
  const [links, addresses] = await Promise.all([kernel.host.listLinks(), kernel.host.listAddresses()]);
  const host: ObservedNamespace = { links, addresses, routes: [] };
  const hostLinks = new Set(links.map((l) => l.name));

  const sysctls = new Map<string, string>();
  for (const { objects } of desired) {
    for (const { key } of objects.sysctls) sysctls.set(key, kernel.readSysctl(kernel.hostNetns, key).trim());
  }

  const listed = kernel.nft.listTable(TABLE_FAMILY, TABLE_NAME);
  const endpoints = new Map<string, ObservedEndpoint>();
  for (const { endpoints: eps } of desired) {
    for (const d of eps) {
      if (needsLook(d, scope, hostLinks) && 'netns' in d.objects) {
        endpoints.set(d.endpoint.id, await observeNamespace(kernel, d.objects.netns));
      }
    }
  }
  // FDB and neighbour dumps grow with every remote endpoint: only worth it when VXLAN is involved.
  const overlay = desired.some(({ objects }) => objects.vxlan !== undefined) || links.some((l) => l.kind === 'vxlan');
  const [fdb, neighbours] = overlay ? await Promise.all([kernel.host.listFdb(), kernel.host.listNeighbours(4)]) : [undefined, undefined];
  return {
    host,
    sysctls,
    firewall: listed === undefined ? undefined : signatureOfListed(listed),
    endpoints,
    ...(fdb === undefined ? {} : { fdb }),
    ...(neighbours === undefined ? {} : { neighbours }),
  };
};
