/**
 * Watching the local store by polling its state file and diffing snapshots. Polling keeps working
 * whatever filesystem the state dir is on, and the atomic rename means a poll never sees a
 * half-written file; where inotify works, a rename of the state file also triggers a poll at once,
 * so watchers (the DNS server, the agent) hear of a commit within a millisecond or so rather than
 * an interval. Changes between two polls are coalesced: a key put and deleted again within one
 * poll produces no event, which suits level-based consumers.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { diffKeyspaces, type Keyspace } from './keyspace.js';
import type { WatchEvent } from './types.js';

/** Calls onChange when `file` is replaced; undefined where inotify is unavailable (polling still runs). */
const watchReplacements = (file: string, onChange: () => void): FSWatcher | undefined => {
  try {
    const watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
      if (name === basename(file)) onChange();
    });
    watcher.on('error', () => watcher.close());
    return watcher;
  } catch {
    return undefined;
  }
};

export async function pollWatch(
  read: () => Promise<Keyspace>,
  prefix: string,
  onEvent: (event: WatchEvent) => void,
  intervalMs: number,
  file?: string,
): Promise<() => void> {
  let seen = await read();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  let again = false;

  const tick = async (): Promise<void> => {
    if (polling) {
      again = true;
      return;
    }
    polling = true;
    clearTimeout(timer);
    let events: WatchEvent[] = [];
    try {
      const now = await read();
      events = diffKeyspaces(seen, now, prefix);
      seen = now;
    } catch {
      // A failed read is retried on the next tick; get/list/commit report the failure itself.
    }
    polling = false;
    for (const event of events) {
      if (stopped) return;
      onEvent(event);
    }
    if (stopped) return;
    if (again) {
      again = false;
      void tick();
    } else {
      timer = setTimeout(() => void tick(), intervalMs);
    }
  };

  timer = setTimeout(() => void tick(), intervalMs);
  const watcher = file === undefined ? undefined : watchReplacements(file, () => void tick());
  return () => {
    stopped = true;
    clearTimeout(timer);
    watcher?.close();
  };
}
