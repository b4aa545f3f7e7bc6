/**
 * When a repair keeps failing, or keeps being undone as soon as it is made (another program
 * fighting over the same object), the daemon must not loop: the key waits 1 s, 2 s, 4 s … up to
 * a minute before the next try, and each wait is reported once. Pure over an injected clock.
 */

export const FIRST_DELAY_MS = 1_000;
export const MAX_DELAY_MS = 60_000;
/** More repairs that changed something than this, for one key within the window, is a fight. */
export const FLAP_LIMIT = 25;
export const FLAP_WINDOW_MS = 5_000;

interface KeyState {
  failures: number;
  until: number;
  lastError: string;
  /** Times of recent passes that changed something. */
  changes: number[];
}

export interface Waiting {
  readonly key: string;
  readonly failures: number;
  readonly until: number;
  readonly lastError: string;
}

export interface Backoff {
  /** Whether the key must wait (it is in back-off). */
  blocked(key: string, now: number): boolean;
  /** A failed repair: how long the key now waits. Each call starts a new wait, reported once. */
  failed(key: string, error: string, now: number): number;
  /**
   * A successful pass: 'recovered' when the key had been failing, 'flapping' (now waiting, like a
   * failure) when its repairs keep being undone, else 'ok'.
   */
  succeeded(key: string, changed: boolean, now: number): 'ok' | 'recovered' | 'flapping';
  /** The earliest time a waiting key may run again. */
  nextWake(): number | undefined;
  waiting(now: number): Waiting[];
}

export const createBackoff = (): Backoff => {
  const keys = new Map<string, KeyState>();
  const state = (key: string): KeyState => {
    let s = keys.get(key);
    if (s === undefined) keys.set(key, (s = { failures: 0, until: 0, lastError: '', changes: [] }));
    return s;
  };
  const failed = (key: string, error: string, now: number): number => {
    const s = state(key);
    s.failures++;
    s.lastError = error;
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (s.failures - 1));
    s.until = now + delay;
    return delay;
  };
  return {
    blocked: (key, now) => (keys.get(key)?.until ?? 0) > now,
    failed,
    succeeded: (key, changed, now) => {
      const s = keys.get(key);
      if (s === undefined && !changed) return 'ok';
      const st = s ?? state(key);
      const wasFailing = st.failures > 0;
      if (changed) {
        st.changes = [...st.changes.filter((t) => now - t < FLAP_WINDOW_MS), now];
        if (st.changes.length > FLAP_LIMIT) {
          st.changes = [];
          failed(key, `repaired more than ${FLAP_LIMIT} times within ${FLAP_WINDOW_MS / 1000} s: something keeps undoing it`, now);
          return 'flapping';
        }
      }
      st.failures = 0;
      st.until = 0;
      if (st.changes.length === 0) keys.delete(key);
      return wasFailing ? 'recovered' : 'ok';
    },
    nextWake: () => {
      const times = [...keys.values()].map((s) => s.until).filter((t) => t > 0);
      return times.length === 0 ? undefined : Math.min(...times);
    },
    waiting: (now) =>
      [...keys].filter(([, s]) => s.until > now).map(([key, s]) => ({ key, failures: s.failures, until: s.until, lastError: s.lastError })),
  };
};
