import { describe, expect, it } from 'vitest';
import { inTurns, type Locker } from '../../lib/state/turns.js';

/** A lock that records who holds it and fails if two ever hold it at once. */
const recordingLock = (): { lock: Locker; order: string[] } => {
  const order: string[] = [];
  let holders = 0;
  const lock: Locker = async (_name, fn) => {
    if (++holders > 1) throw new Error('two holders at once');
    try {
      return await fn();
    } finally {
      holders--;
    }
  };
  return { lock, order };
};

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('inTurns', () => {
  it('gives the lock in the order it was asked for, one holder at a time', async () => {
    const { lock, order } = recordingLock();
    const locked = inTurns(lock);
    await Promise.all(['a', 'b', 'c', 'd'].map((who) => locked('host', async () => {
      order.push(who);
      await tick();
    })));
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('passes the turn on when a holder fails, and the failure to its caller', async () => {
    const { lock, order } = recordingLock();
    const locked = inTurns(lock);
    const failing = locked('host', async () => {
      await tick();
      throw new Error('boom');
    });
    const next = locked('host', async () => void order.push('next'));
    await expect(failing).rejects.toThrow('boom');
    await next;
    expect(order).toEqual(['next']);
  });

  it('keeps other names apart: a holder of one does not hold up another', async () => {
    const held: string[] = [];
    const locked = inTurns((_name, fn) => fn());
    let release = (): void => undefined;
    const first = locked('a', () => new Promise<void>((r) => (release = r)));
    await locked('b', async () => void held.push('b'));
    expect(held).toEqual(['b']);
    release();
    await first;
  });
});
