/** Opens the store a user addressed; the composition root calls this, nothing else picks a backend. */
import { openLocalStore } from './local.js';
import type { Store } from './types.js';
import { parseStoreUrl } from './url.js';

export type { Compare, LeasedKey, Store, StoredValue, WatchEvent, WriteOp } from './types.js';
export { parseStoreUrl, type StoreAddress } from './url.js';

/** url undefined means the local store in stateDir. */
export async function openStore(url: string | undefined, stateDir: string): Promise<Store> {
  const address = url === undefined ? { kind: 'local' as const } : parseStoreUrl(url);
  if (address.kind === 'local') return openLocalStore(address.dir ?? stateDir);
  // Loaded lazily: etcd3 and gRPC add ~250 ms to every CLI and CNI start that uses the local store.
  const { openEtcdStore } = await import('./etcd.js');
  return openEtcdStore(address.endpoints, address.prefix === undefined ? {} : { prefix: address.prefix });
}
