/**
 * Which links are tnet's. A link is ours when it carries our owner alias, or when it was born in
 * TNET_LINK_GROUP and never tagged: the alias takes a second request after the link exists, and
 * a process killed in between leaves such a link, which the next pass tags (or deletes as stale).
 * Anything else, whatever its name, is never changed.
 */
import type { LinkState } from '../kernel/types.js';
import { parseOwnerAlias, TNET_LINK_GROUP } from '../model/names.js';

export const ownerOf = (l: LinkState) => (l.alias === undefined ? undefined : parseOwnerAlias(l.alias));

export const isUntaggedOurs = (l: LinkState): boolean => l.alias === undefined && l.group === TNET_LINK_GROUP;

export const isOurs = (l: LinkState): boolean => ownerOf(l) !== undefined || isUntaggedOurs(l);

/** An endpoint's host-side veth rather than a network's bridge or VXLAN device. */
export const isEndpointLink = (l: LinkState): boolean => ownerOf(l)?.endpointIdPrefix !== undefined || (isUntaggedOurs(l) && l.kind === 'veth');
