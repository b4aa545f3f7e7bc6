/**
 * Watching the local store by diffing the keyspaces two reads give. inotify on the state dir says
 * when one of the store's files changed (every commit appends to the journal or renames a new
 * snapshot into place), so a change is seen at once and an idle watcher costs nothing; a slow poll
 * stays as the fallback for filesystems without inotify, and the fast poll is used where fs.watch
 * cannot be set up at all. Changes between two reads are coalesced: a key put and deleted again in
 * between produces no event, which suits level-based consumers.
 */
import { watch, type FSWatcher } from 'node:fs';
import { diffKeyspaces, type Keyspace } from './keyspace.js';
import type { WatchEvent } from './types.js';

/** With inotify working, how often the file is read anyway (a change inotify did not report). */
const FALLBACK_POLL_MS = 5_000;

export async function pollWatch(
  read: () => Promise<Keyspace>,
  prefix: string,
  onEvent: (event: WatchEvent) => void,
  intervalMs: number,
  stateFiles?: { readonly dir: string; readonly names: (name: string) => boolean },
): Promise<() => void> {
  let seen = await read();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let reading = false;
  let again = false;

  const tick = async (): Promise<void> => {
    if (reading) return void (again = true);
    reading = true;
    clearTimeout(timer);
    let events: WatchEvent[] = [];
    try {
      const now = await read();
      events = diffKeyspaces(seen, now, prefix);
      seen = now;
    } catch {
      // A failed read is retried on the next tick; get/list/commit report the failure itself.
    }
    reading = false;
    for (const event of events) {
      if (stopped) return;
      onEvent(event);
    }
    if (stopped) return;
    if (again) {
      again = false;
      return tick();
    }
    timer = setTimeout(() => void tick(), period);
  };

  let watcher: FSWatcher | undefined;
  if (stateFiles !== undefined) {
    try {
      watcher = watch(stateFiles.dir, { persistent: false }, (_type, name) => {
        if (name === null || stateFiles.names(name)) void tick();
      });
      watcher.on('error', () => undefined);
    } catch {
      watcher = undefined;
    }
  }
  const period = watcher === undefined ? intervalMs : Math.max(intervalMs, FALLBACK_POLL_MS);
  timer = setTimeout(() => void tick(), period);
  return () => {
    stopped = true;
    clearTimeout(timer);
    watcher?.close();
  };
}
