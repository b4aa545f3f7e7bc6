/**
 * The multi-host store over etcd v3. Data keys live under `<prefix>/kv` and lock keys under
 * `<prefix>/locks/`, so listing data never shows a lock and two tnet clusters can share one etcd
 * with different prefixes. A commit is one etcd Txn, so atomicity and CAS come from etcd itself.
 */
import { Etcd3, EtcdLockFailedError, GRPCDeadlineExceededError, GRPCUnavailableError, type ICompare, type IKeyValue, type IRequestOp } from 'etcd3';
import { TnetError } from '../errors.js';
import { pollUntil } from './retry.js';
import type { Compare, Store, StoredValue, WriteOp } from './types.js';

export interface EtcdStoreOptions {
  /** Key prefix of this tnet cluster; default '/tnet'. */
  readonly prefix?: string;
  /** How long opening waits for an endpoint to answer before failing. */
  readonly dialTimeoutMs?: number;
  /** How long withLock waits for a lock before failing with 'busy'. */
  readonly lockTimeoutMs?: number;
  /** A holder that dies (or loses etcd) keeps its lock for at most this long. */
  readonly lockTtlSeconds?: number;
}

export async function openEtcdStore(endpoints: readonly string[], opts: EtcdStoreOptions = {}): Promise<Store> {
  const { prefix = '/tnet', dialTimeoutMs = 2_000, lockTimeoutMs = 30_000, lockTtlSeconds = 10 } = opts;
  const where = endpoints.join(',');
  checkEndpoints(endpoints);
  const client = new Etcd3({ hosts: [...endpoints], dialTimeout: dialTimeoutMs });
  await probe(client, where, dialTimeoutMs);

  const dataPrefix = `${prefix}/kv`;
  const data = client.namespace(dataPrefix);
  const locks = client.namespace(`${prefix}/locks/`);
  const rawKey = (key: string): Buffer => Buffer.from(dataPrefix + key);
  const call = <T>(op: string, target: string, p: Promise<T>): Promise<T> =>
    p.catch((e: unknown) => {
      throw new TnetError(unreachable(e) ? 'busy' : 'kernel', `etcd ${where}: ${op} ${target} failed: ${(e as Error).message}`, { op, target, cause: e });
    });
  const stopWatchers = new Set<() => void>();

  return {
    async get(key) {
      const res = await call('get', key, data.get(key).exec());
      const kv = res.kvs[0];
      // Unlike range and watch results, etcd3 leaves the namespace on a single get's key.
      return kv === undefined ? undefined : { key, value: kv.value.toString(), revision: kv.mod_revision };
    },
    async list(prefix) {
      const res = await call('list', prefix, data.getAll().prefix(prefix).sort('Key', 'Ascend').exec());
      return res.kvs.map(storedValue);
    },
    async commit(compares, ops) {
      const request = { compare: compares.map((c) => toCompare(rawKey, c)), success: ops.map((o) => toRequestOp(rawKey, o)) };
      const res = await call('commit', ops.map((o) => o.key).join(','), client.kv.txn(request));
      return res.succeeded;
    },
    async withLock(name, fn) {
      const lock = locks.lock(name).ttl(lockTtlSeconds);
      // etcd3's Lock only tries once; lease-backed, so a dead holder's lock expires on its own.
      await pollUntil(
        () =>
          lock.acquire().then(
            () => true as const,
            (e: unknown) => {
              if (e instanceof EtcdLockFailedError) return undefined;
              throw new TnetError('kernel', `etcd ${where}: cannot take lock ${name}: ${(e as Error).message}`, {
                op: 'withLock',
                target: name,
                cause: e,
              });
            },
          ),
        lockTimeoutMs,
        () => {
          throw new TnetError('busy', `etcd ${where}: lock ${name} is still held after ${lockTimeoutMs} ms`, {
            op: 'withLock',
            target: name,
          });
        },
      );
      try {
        return await fn();
      } finally {
        await call('unlock', name, lock.release());
      }
    },
    async watch(prefix, onEvent) {
      const watcher = await call('watch', prefix, data.watch().prefix(prefix).create());
      watcher.on('put', (kv) => onEvent({ type: 'put', ...storedValue(kv) }));
      watcher.on('delete', (kv) => onEvent({ type: 'delete', key: kv.key.toString() }));
      const cancel = (): void => {
        stopWatchers.delete(cancel);
        // Cancelling only fails when the connection is gone, which ends the watch anyway.
        watcher.cancel().catch(() => undefined);
      };
      stopWatchers.add(cancel);
      return cancel;
    },
    async putLeased(key, value, ttlSeconds, onLost) {
      const lease = client.lease(ttlSeconds);
      let held = false;
      // etcd3 also says 'lost' when the grant or this put fails; the caller hears of that failure
      // once, from the put, or it would retry twice for every failure (leases grew without bound
      // on a loaded machine, each kept alive).
      lease.once('lost', (e: Error) => held && onLost(e));
      try {
        await call('put leased', key, lease.put(dataPrefix + key).value(value).exec());
      } catch (e) {
        // A lease granted for a put that failed is nobody's: it must not be kept alive.
        lease.revoke().catch(() => undefined);
        throw e;
      }
      held = true;
      // release() stops keepalives only: a restarted holder or the TTL decides what happens next.
      return { close: async () => lease.release() };
    },
    async close() {
      for (const cancel of stopWatchers) cancel();
      client.close();
    },
  };
}

const storedValue = (kv: IKeyValue): StoredValue => ({
  key: kv.key.toString(),
  value: kv.value.toString(),
  revision: kv.mod_revision,
});

const toCompare = (rawKey: (key: string) => Buffer, c: Compare): ICompare =>
  'absent' in c
    ? { key: rawKey(c.key), target: 'Create', result: 'Equal', create_revision: 0 }
    : { key: rawKey(c.key), target: 'Mod', result: 'Equal', mod_revision: c.revision };

const toRequestOp = (rawKey: (key: string) => Buffer, op: WriteOp): IRequestOp =>
  op.op === 'put'
    ? { request_put: { key: rawKey(op.key), value: Buffer.from(op.value) } }
    : { request_delete_range: { key: rawKey(op.key) } };

/** gRPC accepts nearly any string and fails later and vaguely; say what is wrong up front. */
const checkEndpoints = (endpoints: readonly string[]): void => {
  if (endpoints.length === 0) throw new TnetError('invalidInput', 'no etcd endpoint given', { op: 'openEtcdStore' });
  for (const e of endpoints) {
    const url = URL.canParse(e) ? new URL(e) : undefined;
    if (url === undefined || !['http:', 'https:'].includes(url.protocol) || url.hostname === '' || url.pathname.length > 1) {
      throw new TnetError('invalidInput', `etcd endpoint ${JSON.stringify(e)} is not valid: expected http://host:port`, {
        op: 'openEtcdStore',
        target: e,
      });
    }
  }
};

/** The store cannot be reached now (no member answers): worth trying again later, as CNI's code 11 says. */
const unreachable = (e: unknown): boolean => e instanceof GRPCUnavailableError || e instanceof GRPCDeadlineExceededError;

/** etcd3 connects lazily and retries for long; one bounded request makes a bad address fail now. */
async function probe(client: Etcd3, where: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.maintenance.status({ deadline: Date.now() + timeoutMs }), timeout]);
  } catch (e) {
    client.close();
    throw new TnetError('busy', `cannot reach etcd at ${where}: ${(e as Error).message}; try again once it is up`, {
      op: 'openEtcdStore',
      target: where,
      cause: e,
    });
  } finally {
    clearTimeout(timer);
  }
}
