/**
 * Address ranges that can never be a container network: the IANA special-purpose ranges whose
 * addresses a host treats differently from unicast (RFC 6890). A subnet overlapping one would give
 * containers loopback, link-local or multicast addresses, which routing and ARP handle otherwise.
 * Pure.
 */
import { cidrsOverlap, type Cidr } from './cidr.js';

const SPECIAL: ReadonlyArray<{ readonly range: string; readonly what: string }> = [
  { range: '0.0.0.0/8', what: '"this network" (RFC 1122)' },
  { range: '127.0.0.0/8', what: 'loopback' },
  { range: '169.254.0.0/16', what: 'link-local addresses' },
  { range: '224.0.0.0/4', what: 'multicast' },
  { range: '240.0.0.0/4', what: 'reserved addresses and broadcast' },
  { range: '::/128', what: 'the unspecified address' },
  { range: '::1/128', what: 'loopback' },
  { range: '::ffff:0:0/96', what: 'IPv4-mapped addresses' },
  { range: 'fe80::/10', what: 'link-local addresses' },
  { range: 'ff00::/8', what: 'multicast' },
];

/** Why this subnet cannot be a network's, or undefined when it can. */
export const specialRangeOf = (subnet: Cidr): string | undefined => {
  const hit = SPECIAL.find((s) => s.range.includes(':') === (subnet.family === 6) && cidrsOverlap(subnet, s.range));
  return hit === undefined ? undefined : `overlaps ${hit.range}, reserved for ${hit.what}`;
};
