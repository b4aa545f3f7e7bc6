import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isTnetError } from '../../lib/errors.js';
import { tempPathOf } from '../../lib/store/atomic-file.js';
import { replayJournal } from '../../lib/store/journal.js';
import { parseSnapshot } from '../../lib/store/keyspace.js';
import { openLocalStore } from '../../lib/store/local.js';
import type { Store } from '../../lib/store/types.js';
import { makeStateDir } from '../helpers/state-dir.js';
import { buildChildScripts, type ChildScripts } from './child-build.js';
import { describeStoreConformance } from './conformance.js';
import { increment } from './counter.js';

describeStoreConformance('local', async () => {
  const { dir, remove } = makeStateDir('store');
  const store = await openLocalStore(dir);
  return {
    store,
    url: `local:${dir}`,
    cleanup: async () => {
      await store.close();
      remove();
    },
  };
});

describe('local store', () => {
  const removers: (() => void)[] = [];
  const stateDir = (): string => {
    const { dir, remove } = makeStateDir('local');
    removers.push(remove);
    return dir;
  };
  afterEach(() => {
    for (const remove of removers.splice(0)) remove();
  });

  it('lists exactly the keys under a prefix, in order, however many the store holds', async () => {
    const store = await openLocalStore(stateDir());
    const keys = Array.from({ length: 300 }, (_, i) => `/n${i % 7}/${(i * 7919) % 1000}`);
    await store.commit([], keys.map((key) => ({ op: 'put' as const, key, value: key })));
    for (const prefix of ['/n3/', '/n3', '/n', '/n6/99', '/o', '']) {
      const want = [...new Set(keys)].filter((k) => k.startsWith(prefix)).sort();
      expect((await store.list(prefix)).map((v) => v.key)).toEqual(want);
    }
    // Later commits move their keys in the order already sorted instead of sorting again.
    await store.commit([], [{ op: 'delete', key: keys[3] ?? '' }]);
    expect((await store.list('/n3/')).map((v) => v.key)).not.toContain(keys[3]);
    const later = ['/n3/0', '/n3/5000', '/m', '/n30', keys[3] ?? ''];
    await store.commit([], [...later.map((key) => ({ op: 'put' as const, key, value: key })), { op: 'delete', key: keys[10] ?? '' }, { op: 'delete', key: '/never' }]);
    const all = [...new Set([...keys, ...later])].filter((k) => k !== keys[10]).sort();
    expect((await store.list('')).map((v) => v.key)).toEqual(all);
    expect((await store.list('/n3')).map((v) => v.key)).toEqual(all.filter((k) => k.startsWith('/n3')));
  });

  it('creates a missing state dir with mode 0700', async () => {
    const dir = join(stateDir(), 'nested', 'state');
    await openLocalStore(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('keeps the previous state readable after a crash mid-write', async () => {
    const dir = stateDir();
    const store = await openLocalStore(dir);
    await store.commit([], [{ op: 'put', key: '/a', value: 'before' }]);
    // What a crash between writing the temp file and renaming it leaves behind.
    writeFileSync(tempPathOf(join(dir, 'state.json')), '{"format":1,"revision":9,"entr');

    const reopened = await openLocalStore(dir);
    expect((await reopened.get('/a'))?.value).toBe('before');
    expect(await reopened.commit([], [{ op: 'put', key: '/b', value: 'after' }])).toBe(true);
    expect((await reopened.list('/')).map((v) => v.value)).toEqual(['before', 'after']);
  });

  it('fails with busy, naming the lock file, when a lock stays held', async () => {
    const dir = stateDir();
    const holder = await openLocalStore(dir);
    const waiter = await openLocalStore(dir, { lockTimeoutMs: 200 });
    let release = (): void => undefined;
    const held = holder.withLock('net/a', () => new Promise<void>((r) => (release = r)));
    try {
      const err = await waiter.withLock('net/a', async () => 'never').catch((e: unknown) => e);
      expect(isTnetError(err, 'busy')).toBe(true);
      expect((err as Error).message).toContain(join(dir, 'locks', 'net%2Fa.lock'));
    } finally {
      release();
      await held;
    }
  });

  const journals = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('state.journal.')).sort();
  const values = async (store: Store): Promise<string[]> => (await store.list('/')).map((v) => v.value);

  /** What the files on disk hold, read without the store (and its per-process cache). */
  const onDisk = (dir: string): { generation: number; entries: Record<string, string> } => {
    const { generation, keyspace } = parseSnapshot(readFileSync(join(dir, 'state.json'), 'utf8'));
    const journal = journals(dir).includes(`state.journal.${generation}`) ? readFileSync(join(dir, `state.journal.${generation}`)) : Buffer.alloc(0);
    const replayed = replayJournal(keyspace, journal, 0).keyspace;
    return { generation, entries: Object.fromEntries([...replayed.entries].map(([k, e]) => [k, e.value])) };
  };

  it('appends each commit to the journal and cuts off a line a crash left without its end', async () => {
    const dir = stateDir();
    const store = await openLocalStore(dir);
    await store.commit([], [{ op: 'put', key: '/a', value: 'one' }]);
    await store.commit([], [{ op: 'put', key: '/b', value: 'two' }, { op: 'delete', key: '/a' }]);
    expect(journals(dir)).toEqual(['state.journal.0']);
    const journal = join(dir, 'state.journal.0');
    expect(readFileSync(journal, 'utf8').trim().split('\n')).toHaveLength(2);
    // What a kill in the middle of an append leaves.
    appendFileSync(journal, '{"revision":3,"ops":[{"op":"put","key":"/c","val');
    expect(await values(store)).toEqual(['two']);
    expect(await store.commit([], [{ op: 'put', key: '/c', value: 'three' }])).toBe(true);
    expect(await values(store)).toEqual(['two', 'three']);
    expect(readFileSync(journal, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { revision: number }).revision)).toEqual([1, 2, 3]);
  });

  it('writes a new snapshot once the journal outgrows it, keeping revisions and dropping old journals', async () => {
    const dir = stateDir();
    const store = await openLocalStore(dir, { compactAfterBytes: 1 });
    const revisions: number[] = [];
    for (let i = 0; i < 12; i++) {
      await store.commit([], [{ op: 'put', key: `/k${i % 4}`, value: `v${i}` }]);
      revisions.push(Number((await store.get(`/k${i % 4}`))?.revision));
    }
    expect(revisions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const { generation, entries } = onDisk(dir);
    expect(generation).toBeGreaterThan(2);
    expect(entries).toEqual({ '/k0': 'v8', '/k1': 'v9', '/k2': 'v10', '/k3': 'v11' });
    expect(journals(dir).every((n) => n === `state.journal.${generation}`)).toBe(true);
    // A journal a kill left behind between a snapshot's rename and its removal is never read.
    writeFileSync(join(dir, 'state.journal.0'), 'not a journal\n');
    expect(await values(store)).toEqual(['v8', 'v9', 'v10', 'v11']);
    for (let i = 0; i < 4 && journals(dir).includes('state.journal.0'); i++) await store.commit([], [{ op: 'put', key: '/k0', value: 'again' }]);
    expect(journals(dir)).not.toContain('state.journal.0');
  });

  it('reads and continues a state file written before journals (format 1)', async () => {
    const dir = stateDir();
    writeFileSync(join(dir, 'state.json'), '{"format":1,"revision":3,"entries":{"/a":{"value":"x","revision":3}}}');
    const store = await openLocalStore(dir);
    expect(await store.get('/a')).toEqual({ key: '/a', value: 'x', revision: '3' });
    await store.commit([], [{ op: 'put', key: '/b', value: 'y' }]);
    expect((await store.get('/b'))?.revision).toBe('4');
    expect(onDisk(dir)).toEqual({ generation: 0, entries: { '/a': 'x', '/b': 'y' } });
  });

  it('reports a journal line that is no commit by the journal path and byte offset', async () => {
    const dir = stateDir();
    const store = await openLocalStore(dir);
    await store.commit([], [{ op: 'put', key: '/a', value: 'one' }]);
    const journal = join(dir, 'state.journal.0');
    const end = statSync(journal).size;
    appendFileSync(journal, '{"revision":7,"ops":[]}\n');
    await expect(store.get('/a')).rejects.toThrow(`state file ${journal} is corrupt: line at byte ${end} is not a commit of revision 2`);
  });

  describe('with other processes', () => {
    let children: ChildScripts;
    beforeAll(() => {
      children = buildChildScripts();
    });
    afterAll(() => children.remove());

    it("sees another process's commits after its own reads were cached", async () => {
      const dir = stateDir();
      const store = await openLocalStore(dir);
      await increment(store, '/n');
      expect((await store.get('/n'))?.value).toBe('1');
      await children.run([`local:${dir}`, 'increment', '/n', '2']);
      expect((await store.get('/n'))?.value).toBe('3');
    });

    it('keeps every commit that returned, and stays readable and writable, after kill -9 at any moment', async () => {
      const dir = stateDir();
      const kills = 12;
      for (let round = 0; round < kills; round++) {
        const child = children.start([dir, 'hammer', '/n']);
        let printed = '';
        child.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
        const exited = new Promise((resolve) => child.once('exit', resolve));
        try {
          // Past the child's start, then a different moment of its commit loop each round.
          await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
          await new Promise((resolve) => setTimeout(resolve, 5 + ((round * 37) % 60)));
        } finally {
          child.kill('SIGKILL');
          await exited;
        }
        const acked = Math.max(...printed.trim().split('\n').map(Number));
        const store = await openLocalStore(dir);
        const now = Number((await store.get('/n'))?.value);
        // At most one commit was in flight: it landed whole or not at all.
        expect(now === acked || now === acked + 1, `after round ${round}: acked ${acked}, stored ${now}`).toBe(true);
        expect(await increment(store, '/n')).toBe(now + 1);
        expect(onDisk(dir).entries['/n']).toBe(String(now + 1));
      }
    });
  });

  it('reports a corrupt state file by its path', async () => {
    const dir = stateDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'state.json'), '[]');
    const store = await openLocalStore(dir);
    await expect(store.get('/a')).rejects.toThrow(`state file ${join(dir, 'state.json')} is corrupt`);
  });
});
