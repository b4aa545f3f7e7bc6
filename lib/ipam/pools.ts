/**
 * Default address pools, as in Docker, and the choice of a free subnet from them. A subnet is
 * free when it overlaps nothing in `avoid`: other tnet networks and routes already on the host
 * (a VPN, a LAN, another container engine), so a new bridge never shadows a working route.
 */
import { TnetError } from '../errors.js';
import { bitsOf, enclosingCidr, formatAddress, parseAddress } from '../model/cidr.js';
import type { IpFamily } from '../model/types.js';

interface Pool {
  /** Network address of the first subnet. */
  readonly start: string;
  readonly prefixLength: number;
  readonly count: number;
}

export const DEFAULT_POOLS: Readonly<Record<IpFamily, readonly Pool[]>> = {
  4: [
    { start: '172.17.0.0', prefixLength: 16, count: 15 }, // 172.17.0.0/16 … 172.31.0.0/16
    { start: '192.168.0.0', prefixLength: 20, count: 16 }, // 192.168.0.0/16 as /20s
  ],
  // "tne" in hex after fd: a ULA prefix recognisably ours; 65536 /64s.
  6: [{ start: 'fd74:6e65:7400::', prefixLength: 64, count: 65536 }],
};

const POOL_TEXT: Record<IpFamily, string> = {
  4: '172.17.0.0/16 to 172.31.0.0/16, 192.168.0.0/16 as /20s',
  6: 'fd74:6e65:7400::/48 as /64s',
};

interface Range {
  first: bigint;
  last: bigint;
}

/** Sorted, disjoint ranges, so one forward pass over the pool can skip whole blocks at once. */
const mergedRanges = (family: IpFamily, cidrs: readonly string[]): Range[] => {
  const ranges = cidrs
    .map((s) => enclosingCidr(s, 'avoided route'))
    .filter((c) => c.family === family)
    .map((c) => ({ first: c.first, last: c.last }))
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: Range[] = [];
  for (const r of ranges) {
    const prev = out[out.length - 1];
    if (prev !== undefined && r.first <= prev.last + 1n) {
      if (r.last > prev.last) prev.last = r.last;
    } else {
      out.push({ ...r });
    }
  }
  return out;
};

/**
 * The first default-pool subnet of the family that overlaps none of `avoid` (CIDRs; host bits
 * and plain addresses are accepted, since routes and interface addresses come from the kernel).
 * Default routes must not be passed: they overlap everything.
 */
export const chooseSubnet = (family: IpFamily, avoid: readonly string[]): string => {
  const blocked = mergedRanges(family, avoid);
  for (const pool of DEFAULT_POOLS[family]) {
    const step = 1n << BigInt(bitsOf(family) - pool.prefixLength);
    const start = parseAddress(pool.start).value;
    const end = start + BigInt(pool.count) * step;
    let j = 0;
    for (let candidate = start; candidate < end; ) {
      while (blocked[j] !== undefined && blocked[j]!.last < candidate) j++;
      const b = blocked[j];
      if (b === undefined || b.first > candidate + step - 1n) {
        return `${formatAddress(family, candidate)}/${pool.prefixLength}`;
      }
      // Jump to the first block boundary past the blocking range.
      candidate = start + ((b.last + 1n - start + step - 1n) / step) * step;
    }
  }
  throw new TnetError(
    'exhausted',
    `no free IPv${family} subnet left in the default pools (${POOL_TEXT[family]}); ` +
      'every one overlaps a tnet network or a host route. ' +
      `Choose one with --subnet${family === 6 ? ' (IPv6: --ipv6 --subnet)' : ''}`,
    { op: 'choose subnet' },
  );
};
