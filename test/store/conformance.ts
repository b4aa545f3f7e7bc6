/**
 * The one suite every Store backend must pass. makeStore gives a fresh, empty store per test,
 * plus the address child processes use to open the same store (for the multi-process tests).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store, WatchEvent, WriteOp } from '../../lib/store/types.js';
import { makeStateDir } from '../helpers/state-dir.js';
import { buildChildScripts, type ChildScripts } from './child-build.js';
import { increment } from './counter.js';

export interface StoreFixture {
  readonly store: Store;
  /** A store address (see parseStoreUrl) naming this same store, for child processes. */
  readonly url: string;
  /** Closes the store and removes whatever makeStore created. */
  readonly cleanup: () => Promise<void>;
}

const put = (key: string, value: string): WriteOp => ({ op: 'put', key, value });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const waitFor = async (what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

/** True when every "<id> start" line is directly followed by the same id's "end": no interleaving. */
const strictlyPaired = (lines: readonly string[]): boolean =>
  lines.length % 2 === 0 &&
  lines.every((line, i) => (i % 2 === 0 ? line.endsWith(' start') : line === lines[i - 1]?.replace(/start$/, 'end')));

export interface ConformanceOptions {
  /** Child processes racing on one counter; fewer for backends whose client is slow to load. */
  readonly processes?: number;
}

export function describeStoreConformance(
  name: string,
  makeStore: () => Promise<StoreFixture>,
  { processes = 20 }: ConformanceOptions = {},
): void {
  describe(`${name} store conformance`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fx = await makeStore();
      store = fx.store;
    });
    afterEach(async () => fx.cleanup());

    it('gets what was put, with a revision, and undefined for an absent key', async () => {
      expect(await store.get('/a')).toBeUndefined();
      expect(await store.commit([], [put('/a', 'one')])).toBe(true);
      const got = await store.get('/a');
      expect(got).toMatchObject({ key: '/a', value: 'one' });
      expect(got?.revision).toMatch(/^[1-9][0-9]*$/);
    });

    it('lists keys under a prefix only, sorted by key', async () => {
      await store.commit([], [put('/b/2', '2'), put('/a/1', 'x'), put('/b/1', '1'), put('/b10', 'y'), put('/c', 'z')]);
      expect((await store.list('/b/')).map((v) => [v.key, v.value])).toEqual([['/b/1', '1'], ['/b/2', '2']]);
      expect((await store.list('/b')).map((v) => v.key)).toEqual(['/b/1', '/b/2', '/b10']);
      expect((await store.list('')).map((v) => v.key)).toEqual(['/a/1', '/b/1', '/b/2', '/b10', '/c']);
      expect(await store.list('/nothing/')).toEqual([]);
    });

    it('changes the revision on every write, even of the same value', async () => {
      await store.commit([], [put('/k', 'v')]);
      const first = await store.get('/k');
      await store.commit([], [put('/k', 'v')]);
      expect((await store.get('/k'))?.revision).not.toBe(first?.revision);
    });

    it('creates if absent exactly once', async () => {
      expect(await store.commit([{ key: '/net', absent: true }], [put('/net', 'first')])).toBe(true);
      expect(await store.commit([{ key: '/net', absent: true }], [put('/net', 'second')])).toBe(false);
      expect((await store.get('/net'))?.value).toBe('first');
    });

    it('swaps on a current revision and applies nothing of a commit with a stale one', async () => {
      await store.commit([], [put('/x', '1'), put('/y', '1')]);
      const stale = await store.get('/x');
      expect(await store.commit([{ key: '/x', revision: stale?.revision ?? '' }], [put('/x', '2')])).toBe(true);
      const current = await store.get('/x');
      const y = await store.get('/y');

      // One current and one stale compare: the whole commit must fail.
      const compares = [
        { key: '/y', revision: y?.revision ?? '' },
        { key: '/x', revision: stale?.revision ?? '' },
      ];
      expect(await store.commit(compares, [put('/x', '3'), put('/y', '3'), put('/new', 'n')])).toBe(false);
      expect(await store.get('/x')).toEqual(current);
      expect(await store.get('/y')).toEqual(y);
      expect(await store.get('/new')).toBeUndefined();
      expect(await store.commit([{ key: '/absent', revision: current?.revision ?? '' }], [put('/new', 'n')])).toBe(false);
      expect(await store.get('/new')).toBeUndefined();
    });

    it('deletes, and deleting an absent key is not an error', async () => {
      await store.commit([], [put('/d/1', 'a'), put('/d/2', 'b')]);
      expect(await store.commit([], [{ op: 'delete', key: '/d/1' }, { op: 'delete', key: '/d/never' }])).toBe(true);
      expect(await store.get('/d/1')).toBeUndefined();
      expect((await store.list('/d/')).map((v) => v.key)).toEqual(['/d/2']);
    });

    it('runs two overlapping withLock calls on one name strictly one after the other', async () => {
      const log: string[] = [];
      const hold = (id: string) => () =>
        store.withLock('ipam/net1', async () => {
          log.push(`${id} start`);
          await sleep(50);
          log.push(`${id} end`);
        });
      await Promise.all([hold('a')(), hold('b')(), hold('c')()]);
      expect(log).toHaveLength(6);
      expect(strictlyPaired(log)).toBe(true);
    });

    it('does not let different lock names exclude each other, and releases a lock when fn throws', async () => {
      const log: string[] = [];
      const hold = (lock: string) =>
        store.withLock(lock, async () => {
          log.push(`${lock} start`);
          await sleep(50);
          log.push(`${lock} end`);
        });
      await Promise.all([hold('one'), hold('two')]);
      expect(log.slice(0, 2).sort()).toEqual(['one start', 'two start']);

      await expect(store.withLock('one', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(await store.withLock('one', async () => 'again')).toBe('again');
    });

    it('watches puts and deletes under a prefix only', async () => {
      const events: WatchEvent[] = [];
      const stop = await store.watch('/w/', (e) => events.push(e));
      try {
        await store.commit([], [put('/w/a', '1'), put('/other', 'x')]);
        await waitFor('the put event', () => events.length >= 1);
        const revision = (await store.get('/w/a'))?.revision;
        await store.commit([], [{ op: 'delete', key: '/w/a' }]);
        await waitFor('the delete event', () => events.length >= 2);
        expect(events).toEqual([
          { type: 'put', key: '/w/a', value: '1', revision },
          { type: 'delete', key: '/w/a' },
        ]);
      } finally {
        stop();
      }
    });

    it('ends at exactly 20 after 20 concurrent compare-and-swap increments', async () => {
      await Promise.all(Array.from({ length: 20 }, () => increment(store, '/counter')));
      expect((await store.get('/counter'))?.value).toBe('20');
    });

    describe('across processes', () => {
      let children: ChildScripts;
      beforeAll(() => {
        children = buildChildScripts();
      });
      afterAll(() => children.remove());

      it('excludes a lock holder in another process', async () => {
        const { dir, remove } = makeStateDir('lock-log');
        try {
          const file = join(dir, 'log');
          await Promise.all(['p1', 'p2'].map((id) => children.run([fx.url, 'lock-append', 'shared', file, id, '10'])));
          const lines = readFileSync(file, 'utf8').trim().split('\n');
          expect(lines).toHaveLength(40);
          expect(strictlyPaired(lines)).toBe(true);
        } finally {
          remove();
        }
      });

      it(`ends at exactly ${processes * 3} after ${processes} processes increment one counter 3 times each`, async () => {
        await Promise.all(Array.from({ length: processes }, () => children.run([fx.url, 'increment', '/counter', '3'])));
        expect((await store.get('/counter'))?.value).toBe(String(processes * 3));
      });
    });
  });
}
