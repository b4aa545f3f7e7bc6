/**
 * Watching the local store by polling its state file and diffing snapshots. Polling (rather than
 * inotify) keeps working whatever filesystem the state dir is on, and the atomic rename means a
 * poll never sees a half-written file. Changes between two polls are coalesced: a key put and
 * deleted again within one interval produces no event, which suits level-based consumers.
 */
import { diffKeyspaces, type Keyspace } from './keyspace.js';
import type { WatchEvent } from './types.js';

export async function pollWatch(
  read: () => Promise<Keyspace>,
  prefix: string,
  onEvent: (event: WatchEvent) => void,
  intervalMs: number,
): Promise<() => void> {
  let seen = await read();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const tick = async (): Promise<void> => {
    let events: WatchEvent[] = [];
    try {
      const now = await read();
      events = diffKeyspaces(seen, now, prefix);
      seen = now;
    } catch {
      // A failed read is retried on the next tick; get/list/commit report the failure itself.
    }
    for (const event of events) {
      if (stopped) return;
      onEvent(event);
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };

  timer = setTimeout(() => void tick(), intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
