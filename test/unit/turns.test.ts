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
    const locked = inTurns(lock).take;
    await Promise.all(['a', 'b', 'c', 'd'].map((who) => locked('host', async () => {
      order.push(who);
      await tick();
    })));
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('passes the turn on when a holder fails, and the failure to its caller', async () => {
    const { lock, order } = recordingLock();
    const locked = inTurns(lock).take;
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
    const locked = inTurns((_name, fn) => fn()).take;
    let release = (): void => undefined;
    const first = locked('a', () => new Promise<void>((r) => (release = r)));
    await locked('b', async () => void held.push('b'));
    expect(held).toEqual(['b']);
    release();
    await first;
  });

  it('says when the lock is free: nobody holds it and nobody waits', async () => {
    const turns = inTurns((_name, fn) => fn());
    const seen: string[] = [];
    let release = (): void => undefined;
    const first = turns.take('host', () => new Promise<void>((r) => (release = r)));
    const second = turns.take('host', async () => void seen.push('second'));
    const free = turns.free('host', 10_000).then(() => seen.push('free'));
    const other = turns.free('other', 10_000).then(() => seen.push('other free'));
    await tick();
    expect(seen).toEqual(['other free']);
    release();
    await Promise.all([first, second, free, other]);
    expect(seen).toEqual(['other free', 'second', 'free']);
  });

  it('waits for a lull: quietMs with nobody holding the lock, started again by every holder', async () => {
    const turns = inTurns((_name, fn) => fn());
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    await turns.take('host', async () => undefined);
    const t0 = performance.now();
    let freeAt = 0;
    const free = turns.free('host', 10_000, 60).then(() => (freeAt = performance.now() - t0));
    await sleep(30);
    await turns.take('host', () => sleep(10));
    const lastHeld = performance.now() - t0;
    await free;
    expect(freeAt).toBeGreaterThanOrEqual(lastHeld + 55);
    // Long quiet already: at once.
    await sleep(70);
    const t1 = performance.now();
    await turns.free('host', 10_000, 60);
    expect(performance.now() - t1).toBeLessThan(20);
  });

  it('stops waiting for a lock that stays busy after maxMs', async () => {
    const turns = inTurns((_name, fn) => fn());
    let release = (): void => undefined;
    const held = turns.take('host', () => new Promise<void>((r) => (release = r)));
    const t0 = performance.now();
    await turns.free('host', 30);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    release();
    await held;
  });
});
