/**
 * Polling with capped, jittered backoff: how both backends wait for a lock that can only be
 * tried (flock with LOCK_NB, etcd's create-if-absent lock key) without blocking the event loop.
 */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls attempt until it returns something other than undefined, or until timeoutMs has passed,
 * then calls onTimeout (which throws the caller's own error).
 */
export async function pollUntil<T>(
  attempt: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  onTimeout: () => never,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  // Start tiny: most waits are for a commit holding the lock for a millisecond or two.
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    const result = await attempt();
    if (result !== undefined) return result;
    const left = deadline - Date.now();
    if (left <= 0) onTimeout();
    // Jitter keeps 20 plugin processes that lost the same race from retrying in lockstep.
    await sleep(Math.min(left, delay / 2 + Math.random() * delay));
  }
}
