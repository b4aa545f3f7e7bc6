/**
 * resolv.conf, both ways: the host's, read for its nameservers (the upstreams), and the one tnet
 * writes for a named namespace (/etc/netns/NAME/resolv.conf, which `ip netns exec` puts in place
 * of /etc/resolv.conf), marked so tnet only ever rewrites or removes its own. Pure.
 */
import { canonicalAddress } from './zone.js';

/** The nameserver addresses, in order; lines that are not an address are skipped, as glibc does. */
export const nameserversOf = (text: string): string[] => {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [keyword, value] = line.trim().split(/\s+/);
    if (keyword !== 'nameserver' || value === undefined) continue;
    const address = canonicalAddress(value.split('%')[0] ?? '');
    if (address !== undefined && !out.includes(address)) out.push(address);
  }
  return out;
};

/** The first line of every resolv.conf tnet writes: what makes a file tnet's to change. */
export const RESOLV_CONF_MARKER = '# Written by tnet: the DNS server of the tnet networks of this namespace.';

/** glibc reads at most three nameservers (MAXNS). */
const MAX_NAMESERVERS = 3;

export const renderResolvConf = (nameservers: readonly string[]): string =>
  [
    RESOLV_CONF_MARKER,
    '# tnet rewrites it as the namespace joins and leaves networks, and removes it with the last one.',
    ...nameservers.slice(0, MAX_NAMESERVERS).map((n) => `nameserver ${n}`),
    // Names of other containers are single labels: never append a search domain to them first.
    'options ndots:0 edns0',
    '',
  ].join('\n');

export const isOurResolvConf = (text: string): boolean => text.startsWith(`${RESOLV_CONF_MARKER}\n`);
