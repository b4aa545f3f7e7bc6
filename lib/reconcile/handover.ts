/**
 * What an endpoint its runtime places itself (Docker; Handover in model/types.ts) wants of the
 * kernel in each state of the handover, from what its driver wants of a plain veth. Pure.
 */
import type { ContainerInterface, EndpointObjects } from '../drivers/types.js';
import type { LinkState } from '../kernel/types.js';
import type { Endpoint } from '../model/types.js';
import type { ObservedNamespace } from './observed.js';

export const handedOver = (objects: EndpointObjects, endpoint: Endpoint): EndpointObjects => {
  const { handover } = endpoint;
  if (handover === undefined || objects.kind !== 'veth') return objects;
  const { hostVeth, container } = objects;
  switch (handover.state) {
    case 'parked':
      return { kind: 'handedVeth', hostVeth, parked: { netns: endpoint.netns, name: handover.parkedName, mac: container.mac, mtu: container.mtu } };
    case 'joining':
    case 'leaving':
      return { kind: 'handedVeth', hostVeth };
    case 'placed':
      // The runtime routes the namespace's default through one endpoint only: the one it says.
      return { ...objects, container: { ...container, routes: handover.gateway === true ? container.routes : [], runtimeRoutes: true } };
  }
};

/**
 * Whether the runtime is done with a container side it placed: the interface is up and has every
 * address and route tnet wants it to have. The runtime brings it up after addressing it and adds
 * the gateway route last, so from then on any difference is drift, which tnet may repair without
 * racing the runtime's own steps (one it raced would fail on EEXIST).
 */
export const settled = (want: ContainerInterface, link: LinkState, ns: ObservedNamespace): boolean =>
  link.up &&
  want.addresses.every((a) => ns.addresses.some((h) => h.linkIndex === link.index && h.family === a.family && h.address === a.address && h.prefixLength === a.prefixLength)) &&
  want.routes.every((r) => ns.routes.some((h) => h.outIndex === link.index && h.destination === r.destination && h.gateway === r.gateway && (h.metric ?? 0) === r.metric));
