/**
 * The composition root: the one place that picks the real store and kernel and wires them into
 * the service context. The CLI and the CNI plugin both start here.
 */
import { randomBytes } from 'node:crypto';
import { createKernel } from './kernel/index.js';
import { fileIdentity } from './state/identity.js';
import { createRepository } from './state/repository.js';
import type { ServiceContext } from './service/context.js';
import { openStore, parseStoreUrl } from './store/index.js';

export const DEFAULT_STATE_DIR = '/var/lib/tnet';

export interface AppOptions {
  readonly stateDir: string;
  /** `etcd://host:port,…`; the embedded local store in stateDir when absent. */
  readonly storeUrl?: string;
  /** Treat this namespace as the host (lab hosts, tests); the current one when absent. */
  readonly hostNetns?: string;
}

export interface App {
  readonly ctx: ServiceContext;
  close(): Promise<void>;
}

export const openApp = async (options: AppOptions): Promise<App> => {
  const store = await openStore(options.storeUrl, options.stateDir);
  let kernel;
  try {
    kernel = createKernel(options.hostNetns);
  } catch (e) {
    await store.close();
    throw e;
  }
  const identity = fileIdentity(options.stateDir);
  const shared = options.storeUrl !== undefined && parseStoreUrl(options.storeUrl).kind === 'etcd';
  const ctx: ServiceContext = {
    // Hosts sharing one store each lock only themselves; the local store keeps the one lock name
    // every process on the host (CLI, CNI plugin) agrees on.
    repo: shared ? createRepository(store, () => `host/${identity.get()?.name ?? 'unjoined'}`) : createRepository(store),
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
