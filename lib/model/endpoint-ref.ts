/**
 * How a user names one attachment on a network: by its namespace (what `tnet connect` took), or,
 * for containers a runtime attached through the CNI plugin, by the container id the runtime
 * gave, whole or as a unique prefix (the short ids `podman ps` and `docker ps` print).
 */
import { TnetError } from '../errors.js';
import type { Endpoint } from './types.js';

export type EndpointRef = { readonly netns: string } | { readonly container: string };

export const describeEndpointRef = (ref: EndpointRef): string => ('netns' in ref ? ref.netns : `container ${ref.container}`);

/** From the CLI's --netns / --container: exactly one of them. */
export const endpointRefOf = (netns: string | undefined, container: string | undefined): EndpointRef => {
  if (netns !== undefined && container !== undefined) throw new TnetError('invalidInput', 'give either --netns or --container, not both');
  if (netns !== undefined) return { netns };
  if (container !== undefined && container !== '') return { container };
  throw new TnetError('invalidInput', 'name the attachment: --netns NAME|PATH|PID, or --container ID (a runtime\'s container id or a unique prefix of it)');
};

/** The endpoint a container id (or unique prefix) names; netns refs are matched by the caller, which resolves paths. */
export const selectByContainer = (endpoints: readonly Endpoint[], container: string, networkName: string): Endpoint => {
  const ownedBy = (e: Endpoint): string | undefined => (e.owner.kind === 'cni' ? e.owner.containerId : undefined);
  const exact = endpoints.find((e) => ownedBy(e) === container);
  if (exact !== undefined) return exact;
  const matches = endpoints.filter((e) => ownedBy(e)?.startsWith(container) === true);
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  if (matches.length === 0) {
    throw new TnetError('notFound', `no container ${container} is attached to network ${networkName}`, { target: container });
  }
  const ids = matches.map((e) => ownedBy(e)).sort().join(', ');
  throw new TnetError('invalidInput', `container ${container} is ambiguous on network ${networkName}: it starts ${ids}; give more of the id`, { target: container });
};
