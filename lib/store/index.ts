/** Opens the store a user addressed; the composition root calls this, nothing else picks a backend. */
import { TnetError } from '../errors.js';
import { openLocalStore } from './local.js';
import type { Store } from './types.js';
import { parseStoreUrl } from './url.js';

export type { Compare, LeasedKey, Store, StoredValue, WatchEvent, WriteOp } from './types.js';
export { parseStoreUrl, type StoreAddress } from './url.js';

const DIAL_TIMEOUT_ENV = 'TNET_ETCD_DIAL_TIMEOUT_MS';

/**
 * How long opening an etcd store waits for a first answer: 2 s unless TNET_ETCD_DIAL_TIMEOUT_MS
 * says otherwise (hosts that share CPUs, or emulate one, can take longer to set up the first
 * gRPC call than a healthy etcd takes to answer it).
 */
const dialTimeoutMs = (env: Readonly<Record<string, string | undefined>>): { dialTimeoutMs?: number } => {
  const value = env[DIAL_TIMEOUT_ENV];
  if (value === undefined || value === '') return {};
  const ms = Number(value);
  if (!/^\d+$/.test(value) || ms < 100 || ms > 600_000) {
    throw new TnetError('invalidInput', `${DIAL_TIMEOUT_ENV}=${JSON.stringify(value)} is not valid: expected milliseconds from 100 to 600000`, { target: value });
  }
  return { dialTimeoutMs: ms };
};

/** url undefined means the local store in stateDir. */
export async function openStore(url: string | undefined, stateDir: string): Promise<Store> {
  const address = url === undefined ? { kind: 'local' as const } : parseStoreUrl(url);
  if (address.kind === 'local') return openLocalStore(address.dir ?? stateDir);
  // Loaded lazily: etcd3 and gRPC add ~250 ms to every CLI and CNI start that uses the local store.
  const { openEtcdStore } = await import('./etcd.js');
  return openEtcdStore(address.endpoints, { ...dialTimeoutMs(process.env), ...(address.prefix === undefined ? {} : { prefix: address.prefix }) });
}
