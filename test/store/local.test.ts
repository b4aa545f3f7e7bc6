import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTnetError } from '../../lib/errors.js';
import { tempPathOf } from '../../lib/store/atomic-file.js';
import { openLocalStore } from '../../lib/store/local.js';
import { makeStateDir } from '../helpers/state-dir.js';
import { describeStoreConformance } from './conformance.js';

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
    await store.commit([], [{ op: 'delete', key: keys[3] ?? '' }]);
    expect((await store.list('/n3/')).map((v) => v.key)).not.toContain(keys[3]);
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

  it('reports a corrupt state file by its path', async () => {
    const dir = stateDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'state.json'), '[]');
    const store = await openLocalStore(dir);
    await expect(store.get('/a')).rejects.toThrow(`state file ${join(dir, 'state.json')} is corrupt`);
  });
});
