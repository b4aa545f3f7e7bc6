/**
 * The composition root: the one place that picks the real store and kernel and wires them into
 * the service context. The CLI and the CNI plugin both start here.
 */
import { randomBytes } from 'node:crypto';
import { createKernel } from './kernel/index.js';
import { createRepository } from './state/repository.js';
import type { ServiceContext } from './service/context.js';
import { openStore } from './store/index.js';

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
  const ctx: ServiceContext = {
    repo: createRepository(store),
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
