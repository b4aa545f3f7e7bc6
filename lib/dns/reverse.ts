/** PTR names: 4.3.2.1.in-addr.arpa and the 32 nibbles of ip6.arpa (RFC 1035 3.5, RFC 3596 2.5). Pure. */
import { formatAddress } from '../model/cidr.js';

const V4_SUFFIX = '.in-addr.arpa';
const V6_SUFFIX = '.ip6.arpa';

/** The address a reverse name stands for (canonical text), or undefined when it is not one. */
export const addressOfReverseName = (qname: string): string | undefined => {
  const name = qname.toLowerCase();
  if (name.endsWith(V4_SUFFIX)) {
    const octets = name.slice(0, -V4_SUFFIX.length).split('.');
    if (octets.length !== 4 || !octets.every((o) => /^(0|[1-9]\d{0,2})$/.test(o) && Number(o) <= 255)) return undefined;
    return octets.reverse().join('.');
  }
  if (name.endsWith(V6_SUFFIX)) {
    const nibbles = name.slice(0, -V6_SUFFIX.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    return formatAddress(6, BigInt(`0x${nibbles.reverse().join('')}`));
  }
  return undefined;
};

export const isReverseName = (qname: string): boolean => {
  const name = qname.toLowerCase();
  return name.endsWith(V4_SUFFIX) || name.endsWith(V6_SUFFIX) || name === V4_SUFFIX.slice(1) || name === V6_SUFFIX.slice(1);
};
