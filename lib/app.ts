/**
 * The composition root: the one place that picks the real store and kernel and wires them into
 * the service context. The CLI and the CNI plugin both start here.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { TnetError } from './errors.js';
import { join } from 'node:path';
import { createKernel } from './kernel/index.js';
import { fileIdentity } from './state/identity.js';
import { createRepository } from './state/repository.js';
import type { ServiceContext } from './service/context.js';
import { withFileLock } from './store/file-lock.js';
import { openStore, parseStoreUrl, type Store } from './store/index.js';
import { stepCounter, type StepPoints } from './step-points.js';

export interface AppOptions {
  readonly stateDir: string;
  /** `etcd://host:port,…`; the embedded local store in stateDir when absent. */
  readonly storeUrl?: string;
  /** Treat this namespace as the host (lab hosts, tests); the current one when absent. */
  readonly hostNetns?: string;
  /** Crash tests only: count and kill at state-changing steps (see step-points.ts). */
  readonly stepPoints?: StepPoints;
  /**
   * How the store is opened; a long-lived caller running many commands (a lab host's shell)
   * passes one that keeps a shared store's connection open between them.
   */
  readonly openStore?: typeof openStore;
}

export interface App {
  readonly ctx: ServiceContext;
  close(): Promise<void>;
}

const HOST_LOCK_TIMEOUT_MS = 30_000;

/** flock(2) locks under <stateDir>/locks, one file per lock name (as the local store keeps them). */
const hostFileLock = (stateDir: string) => async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  const dir = join(stateDir, 'locks');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return withFileLock(join(dir, `${encodeURIComponent(name)}.lock`), { timeoutMs: HOST_LOCK_TIMEOUT_MS }, fn);
};

/** The store with the step hook before every commit. */
const countingCommits = (store: Store, beforeChange: (what: string) => void): Store => ({
  ...store,
  commit: (compares, ops) => {
    beforeChange('store commit');
    return store.commit(compares, ops);
  },
});

/** A state dir given as a file (a typo, a wrong mount) is the user's to fix: say so, before anything opens it. */
const requireStateDir = (dir: string): void => {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // made on first use
    if (code !== 'ENOTDIR') throw e;
  }
  if (st === undefined || !st.isDirectory()) {
    throw new TnetError('invalidInput', `state directory ${dir} is not a directory (${st === undefined ? 'a parent of it is a file' : 'it is a file'}); give a directory (--state-dir, TNET_STATE_DIR or stateDir)`, { target: dir });
  }
};

export const openApp = async (options: AppOptions): Promise<App> => {
  requireStateDir(options.stateDir);
  const beforeChange = options.stepPoints === undefined ? undefined : stepCounter(options.stepPoints);
  const opened = await (options.openStore ?? openStore)(options.storeUrl, options.stateDir);
  const store = beforeChange === undefined ? opened : countingCommits(opened, beforeChange);
  let kernel;
  try {
    kernel = createKernel(options.hostNetns, beforeChange === undefined ? {} : { beforeChange });
  } catch (e) {
    await store.close();
    throw e;
  }
  const identity = fileIdentity(options.stateDir);
  const shared = options.storeUrl !== undefined && parseStoreUrl(options.storeUrl).kind === 'etcd';
  const ctx: ServiceContext = {
    // Hosts sharing one store each lock only themselves; the local store keeps the one lock name
    // every process on the host (CLI, CNI plugin) agrees on.
    // The host lock only ever excludes processes of this same host (same state dir, hence same
    // identity), so with etcd it is a flock in the state dir rather than an etcd lock: that saves
    // a lease grant, a txn and a revoke (three raft writes) per command, ~50-70 ms of a connect
    // in the lab, and a holder that dies releases it at once instead of after the lease TTL.
    repo: shared
      ? createRepository(store, () => `host/${identity.get()?.name ?? 'unjoined'}`, hostFileLock(options.stateDir))
      : createRepository(store),
    identity,
    kernel,
    now: () => new Date(),
    newId: () => randomBytes(32).toString('hex'),
  };
  return {
    ctx,
    close: async () => {
      kernel.close();
      await store.close();
    },
  };
};
