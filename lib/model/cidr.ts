/**
 * IPv4/IPv6 address and CIDR arithmetic on BigInt. Own implementation rather than ip-address:
 * allocation formats many addresses in a loop, and a plain bigint is both faster and easier to
 * reason about than an object per address. Canonical forms: IPv4 dotted quad without leading
 * zeros, IPv6 per RFC 5952 (lower case, longest zero run compressed, IPv4-mapped in mixed form).
 */
import type { IpFamily } from './types.js';
import { inputError } from './fields.js';

export interface Address {
  readonly family: IpFamily;
  readonly value: bigint;
}

export interface Cidr {
  readonly family: IpFamily;
  /** Canonical network address (host bits zero). */
  readonly network: string;
  readonly prefixLength: number;
  /** Numeric first (network) and last address of the block, for arithmetic without re-parsing. */
  readonly first: bigint;
  readonly last: bigint;
  toString(): string;
}

export const bitsOf = (family: IpFamily): number => (family === 4 ? 32 : 128);

const V4_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

// Leading zeros are refused: some tools read 010 as octal, so "010.0.0.1" is ambiguous.
const parseV4 = (s: string): bigint | undefined => {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!V4_OCTET.test(p)) return undefined;
    const octet = Number(p);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return BigInt(n);
};

const parseV6Groups = (s: string): bigint[] | undefined => {
  if (s === '') return [];
  const groups: bigint[] = [];
  const parts = s.split(':');
  for (const [i, p] of parts.entries()) {
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseV4(p);
      if (v4 === undefined) return undefined;
      groups.push(v4 >> 16n, v4 & 0xffffn);
    } else if (V6_GROUP.test(p)) {
      groups.push(BigInt(parseInt(p, 16)));
    } else {
      return undefined;
    }
  }
  return groups;
};

const parseV6 = (s: string): bigint | undefined => {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = parseV6Groups(halves[0] ?? '');
  const tail = halves.length === 2 ? parseV6Groups(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let n = 0n;
  for (const g of [...head, ...Array<bigint>(missing).fill(0n), ...tail]) n = (n << 16n) | g;
  return n;
};

/** Parses an address without throwing; zone indexes ("fe80::1%eth0") are not accepted. */
export const tryParseAddress = (s: string): Address | undefined => {
  if (s.includes(':')) {
    const value = parseV6(s);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseV4(s);
  return value === undefined ? undefined : { family: 4, value };
};

export const parseAddress = (s: string, what = 'IP address'): Address => {
  const a = tryParseAddress(s);
  if (a === undefined) throw inputError(what, `${JSON.stringify(s)} is not an IPv4 or IPv6 address`);
  return a;
};

/** IPv4 from a plain number: hot loops avoid bigint where 32 bits suffice. */
export const formatIpv4Number = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

const formatV4 = (v: bigint): string => formatIpv4Number(Number(v));

const MAPPED_V4_PREFIX = 0xffffn << 32n;

const formatV6 = (v: bigint): string => {
  if (v >> 32n === 0xffffn) return `::ffff:${formatV4(v - MAPPED_V4_PREFIX)}`;
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((v >> shift) & 0xffffn));
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
};

export const formatAddress = (family: IpFamily, value: bigint): string =>
  family === 4 ? formatV4(value) : formatV6(value);

export const parseIp = (s: string, what = 'IP address'): { family: IpFamily; address: string } => {
  const a = parseAddress(s, what);
  return { family: a.family, address: formatAddress(a.family, a.value) };
};

export const canonicalIp = (s: string, what = 'IP address'): string => parseIp(s, what).address;

const makeCidr = (family: IpFamily, first: bigint, prefixLength: number): Cidr => {
  const network = formatAddress(family, first);
  const hostBits = BigInt(bitsOf(family) - prefixLength);
  return {
    family,
    network,
    prefixLength,
    first,
    last: first + (1n << hostBits) - 1n,
    toString: () => `${network}/${prefixLength}`,
  };
};

const maskOf = (family: IpFamily, prefixLength: number): bigint => {
  const bits = BigInt(bitsOf(family));
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefixLength))) - 1n);
};

const splitCidr = (s: string, what: string): { address: Address; prefixLength: number } => {
  const notCidr = (): never => {
    throw inputError(what, `${JSON.stringify(s)} is not an IPv4 or IPv6 CIDR (expected ADDRESS/PREFIX, e.g. 10.1.0.0/24)`);
  };
  const slash = s.indexOf('/');
  if (slash < 0) return notCidr();
  const address = tryParseAddress(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (address === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(len)) return notCidr();
  const prefixLength = Number(len);
  const max = bitsOf(address.family);
  if (prefixLength > max) {
    throw inputError(what, `${JSON.stringify(s)} has prefix length /${prefixLength}; IPv${address.family} allows /0 to /${max}`);
  }
  return { address, prefixLength };
};

/** A strict CIDR: host bits must be zero, because "10.1.2.3/24" usually hides a typo. */
export const parseCidr = (s: string, what = 'CIDR'): Cidr => {
  const { address, prefixLength } = splitCidr(s, what);
  const first = address.value & maskOf(address.family, prefixLength);
  const cidr = makeCidr(address.family, first, prefixLength);
  if (first !== address.value) {
    throw inputError(what, `${s} has host bits set; did you mean ${cidr.toString()}?`);
  }
  return cidr;
};

/**
 * The block an address or a prefix with host bits belongs to, for input from the kernel (routes,
 * interface addresses such as 192.168.1.5/24) where host bits are normal; a plain address is a /32 or /128.
 */
export const enclosingCidr = (s: string, what = 'CIDR'): Cidr => {
  const { address, prefixLength } = s.includes('/')
    ? splitCidr(s, what)
    : { address: parseAddress(s, what), prefixLength: -1 };
  const len = prefixLength < 0 ? bitsOf(address.family) : prefixLength;
  return makeCidr(address.family, address.value & maskOf(address.family, len), len);
};

const asCidr = (c: string | Cidr): Cidr => (typeof c === 'string' ? parseCidr(c) : c);

export const cidrContains = (cidr: string | Cidr, ip: string): boolean => {
  const c = asCidr(cidr);
  const a = parseAddress(ip);
  return a.family === c.family && a.value >= c.first && a.value <= c.last;
};

export const cidrsOverlap = (a: string | Cidr, b: string | Cidr): boolean => {
  const x = asCidr(a);
  const y = asCidr(b);
  return x.family === y.family && x.first <= y.last && y.first <= x.last;
};

/** The n-th address of the block (0 = network address); n outside the block is an error. */
export const nthAddress = (cidr: string | Cidr, n: bigint): string => {
  const c = asCidr(cidr);
  if (n < 0n || c.first + n > c.last) {
    throw inputError('', `address #${n} is outside ${c.toString()}, which has ${c.last - c.first + 1n} addresses`);
  }
  return formatAddress(c.family, c.first + n);
};

/** Inverse of nthAddress. */
export const addressOffset = (cidr: string | Cidr, ip: string): bigint => {
  const c = asCidr(cidr);
  const a = parseAddress(ip);
  if (a.family !== c.family || a.value < c.first || a.value > c.last) {
    throw inputError('', `${ip} is outside ${c.toString()}`);
  }
  return a.value - c.first;
};

/**
 * Addresses that can be given to hosts: all but the network address and, for IPv4, the broadcast
 * address. IPv6 has no broadcast, but its first address is the subnet-router anycast (RFC 4291 2.6.1).
 */
export const hostRange = (cidr: string | Cidr): { first: bigint; last: bigint } => {
  const c = asCidr(cidr);
  return { first: c.first + 1n, last: c.family === 4 ? c.last - 1n : c.last };
};
