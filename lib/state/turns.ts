/**
 * Turns at a named lock within one process, first come first served. The host lock is a flock
 * (or an etcd key) that can only be tried, so waiters poll it with back-off: in the daemon, whose
 * roles and Docker calls share it, the next in line would find it free only at its next try
 * (up to 50 ms later), and under load one waiter could lose every race to newer ones (a Docker
 * call waited 16 s behind 200 others). Here each waits for the one before it in this process,
 * then takes the lock, which it contends for with other processes only.
 */
export type Locker = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

export interface Turns {
  readonly take: Locker;
  /**
   * Resolves once nobody in this process has held or waited for the lock for quietMs (a runtime's
   * calls come in bursts with gaps between them), or after maxMs.
   */
  readonly free: (name: string, maxMs: number, quietMs?: number) => Promise<void>;
}

export const inTurns = (lock: Locker): Turns => {
  const queues = new Map<string, Array<() => void>>();
  const freeWaiters = new Map<string, Array<() => void>>();
  /** When each name was last let go of by everyone. */
  const freeSince = new Map<string, number>();
  const wait = (name: string): Promise<void> => {
    const queue = queues.get(name);
    if (queue === undefined) return void queues.set(name, []), Promise.resolve();
    return new Promise((resolve) => queue.push(resolve));
  };
  const next = (name: string): void => {
    const queue = queues.get(name);
    const first = queue?.shift();
    if (first !== undefined) return first();
    queues.delete(name);
    freeSince.set(name, performance.now());
    for (const w of freeWaiters.get(name) ?? []) w();
    freeWaiters.delete(name);
  };
  /** Calls then once the lock is not held nor waited for, or after ms. */
  const onceFree = (name: string, ms: number, then: () => void): void => {
    const waiters = freeWaiters.get(name) ?? [];
    freeWaiters.set(name, waiters);
    const done = (): void => (clearTimeout(timer), then());
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(done), 1);
      then();
    }, ms);
    waiters.push(done);
  };
  const free = (name: string, maxMs: number, quietMs = 0): Promise<void> =>
    new Promise((resolve) => {
      const deadline = performance.now() + maxMs;
      const check = (): void => {
        const now = performance.now();
        if (now >= deadline) return resolve();
        if (queues.has(name)) return onceFree(name, deadline - now, check);
        const quietFor = now - (freeSince.get(name) ?? -Infinity);
        if (quietFor >= quietMs) return resolve();
        setTimeout(check, Math.min(quietMs - quietFor, deadline - now));
      };
      check();
    });
  const take: Locker = async (name, fn) => {
    await wait(name);
    try {
      return await lock(name, fn);
    } finally {
      next(name);
    }
  };
  return { take, free };
};
