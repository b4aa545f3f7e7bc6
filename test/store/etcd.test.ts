import { randomUUID } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTnetError } from '../../lib/errors.js';
import { openEtcdStore } from '../../lib/store/etcd.js';
import { openStore } from '../../lib/store/index.js';
import { freePort, startEtcd, type TestEtcd } from '../helpers/etcd.js';
import { describeStoreConformance } from './conformance.js';

let etcd: TestEtcd | undefined;
beforeAll(async () => {
  etcd = await startEtcd();
}, 20_000);
afterAll(async () => etcd?.stop());

const endpoints = (): string[] => etcd?.endpoints ?? [];
/** Every store gets its own key prefix on the one etcd, so each starts empty. */
const freshPrefix = (): string => `/tnet-test-${randomUUID()}`;
const storeUrl = (prefix: string): string => `etcd://${endpoints().map((e) => e.replace('http://', '')).join(',')}${prefix}`;

// Each child loads gRPC (~0.4 s of CPU), so 6 racing processes rather than 20 keep this file fast.
describeStoreConformance(
  'etcd',
  async () => {
    const prefix = freshPrefix();
    const store = await openEtcdStore(endpoints(), { prefix });
    return { store, url: storeUrl(prefix), cleanup: () => store.close() };
  },
  { processes: 6 },
);

describe('etcd store', () => {
  it('fails fast, naming the address, when nothing listens there', async () => {
    const address = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const err = await openEtcdStore([address], { dialTimeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(isTnetError(err, 'busy')).toBe(true);
    expect((err as Error).message).toContain(`cannot reach etcd at ${address}`);
  });

  it('rejects a malformed endpoint as invalid input', async () => {
    const err = await openEtcdStore(['127.0.0.1:2379']).catch((e: unknown) => e);
    expect(isTnetError(err, 'invalidInput')).toBe(true);
    expect((err as Error).message).toContain('"127.0.0.1:2379"');
  });

  it('opens through an etcd:// store address', async () => {
    const store = await openStore(storeUrl(freshPrefix()), '/unused');
    try {
      expect(await store.commit([], [{ op: 'put', key: '/a', value: '1' }])).toBe(true);
      expect((await store.get('/a'))?.value).toBe('1');
    } finally {
      await store.close();
    }
  });

  it('a leased put that fails leaves no lease kept alive, and is not also reported lost', async () => {
    const store = await openEtcdStore(endpoints(), { prefix: freshPrefix() });
    const admin = new Etcd3({ hosts: endpoints() });
    const leases = async (): Promise<number> => (await admin.leaseClient.leaseLeases()).leases.length;
    try {
      const before = await leases();
      const lost: Error[] = [];
      // Over etcd's request size limit (1.5 MiB): the grant succeeds, the put fails.
      const err = await store.putLeased?.('/alive/h1', 'x'.repeat(2 * 1024 * 1024), 2, (e) => void lost.push(e)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      // Kept alive, a lease of 2 s would still be listed after 3 s; revoked, it goes at once.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await leases()).toBe(before);
      expect(lost).toEqual([]);
    } finally {
      admin.close();
      await store.close();
    }
  });

  it('fails with busy when a lock stays held', async () => {
    const prefix = freshPrefix();
    const holder = await openEtcdStore(endpoints(), { prefix });
    const waiter = await openEtcdStore(endpoints(), { prefix, lockTimeoutMs: 300 });
    let release = (): void => undefined;
    const held = holder.withLock('net/a', () => new Promise<void>((r) => (release = r)));
    try {
      await new Promise((r) => setTimeout(r, 100));
      const err = await waiter.withLock('net/a', async () => 'never').catch((e: unknown) => e);
      expect(isTnetError(err, 'busy')).toBe(true);
      expect((err as Error).message).toContain('lock net/a is still held');
    } finally {
      release();
      await held;
      await Promise.all([holder.close(), waiter.close()]);
    }
  });
});
