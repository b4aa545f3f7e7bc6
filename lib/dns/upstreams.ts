/**
 * Which upstream resolver to try, in which order: the host's nameservers as resolv.conf lists
 * them, but one that just failed (timed out) goes to the back of the line for a while, so a dead
 * first nameserver costs one timeout per penalty period rather than one per query (aardvark-dns
 * #482). When every one is penalised they are all tried in their order anyway. Pure (clock given).
 */
export interface UpstreamPolicy {
  /** The order to try them in now. */
  order(upstreams: readonly string[]): readonly string[];
  failed(upstream: string): void;
  /** Whether it failed within the penalty period (is tried last). */
  failing(upstream: string): boolean;
  answered(upstream: string): void;
}

export const createUpstreamPolicy = (now: () => number, penaltyMs: number): UpstreamPolicy => {
  const failedAt = new Map<string, number>();
  const penalised = (u: string): boolean => {
    const t = failedAt.get(u);
    if (t === undefined) return false;
    if (now() - t < penaltyMs) return true;
    failedAt.delete(u);
    return false;
  };
  return {
    order: (upstreams) => (failedAt.size === 0 ? upstreams : [...upstreams.filter((u) => !penalised(u)), ...upstreams.filter(penalised)]),
    failed: (u) => void failedAt.set(u, now()),
    failing: penalised,
    answered: (u) => void failedAt.delete(u),
  };
};
