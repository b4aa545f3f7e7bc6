/** A read-modify-write increment through compare-and-swap: the pattern IPAM uses, shared by tests and child processes. */
import type { Compare, Store } from '../../lib/store/types.js';

export async function increment(store: Store, key: string): Promise<number> {
  for (;;) {
    const current = await store.get(key);
    const next = Number(current?.value ?? '0') + 1;
    const compare: Compare = current === undefined ? { key, absent: true } : { key, revision: current.revision };
    if (await store.commit([compare], [{ op: 'put', key, value: String(next) }])) return next;
    // Lost the race; a little jitter stops the losers from colliding again in lockstep.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
  }
}
