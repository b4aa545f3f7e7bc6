/**
 * One watch on the store for the whole daemon, shared by the roles that follow it (the overlay
 * agent for other hosts' endpoints, drift repair for this host's), so the store serves one
 * stream however many roles are on.
 */
import type { Store, WatchEvent } from '../store/types.js';

export interface StoreFeed {
  /** listener gets every change under tnet/ from now on; returns a function that stops it. */
  subscribe(listener: (event: WatchEvent) => void): Promise<() => void>;
  close(): void;
}

export const createStoreFeed = (store: Store): StoreFeed => {
  const listeners = new Set<(event: WatchEvent) => void>();
  let stop: Promise<() => void> | undefined;
  return {
    subscribe: async (listener) => {
      listeners.add(listener);
      stop ??= store.watch('tnet/', (event) => {
        for (const l of listeners) l(event);
      });
      await stop;
      return () => void listeners.delete(listener);
    },
    close: () => {
      listeners.clear();
      void stop?.then((s) => s());
    },
  };
};
