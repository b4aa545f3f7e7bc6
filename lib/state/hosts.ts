/**
 * The cluster's hosts in the store. Key layout (beside repository.ts's):
 *   tnet/hosts/<name>  -> HostRecord   (written by `tnet host join`, removed by `host leave`)
 *   tnet/alive/<name>  -> HostRecord   (leased: kept alive by that host's agent, gone when it dies)
 *   tnet/peers         -> HostIdentity[] (static-peer mode: written by `apply` from a spec's peers:)
 * Liveness is a separate key so a host's record (and its endpoints) survive an agent restart,
 * as flannel keeps a host's subnet lease across a flanneld restart.
 */
import { TnetError } from '../errors.js';
import type { HostIdentity, HostRecord } from '../model/host.js';
import type { LeasedKey, Store } from '../store/types.js';

const HOSTS = 'tnet/hosts/';
const ALIVE = 'tnet/alive/';
const PEERS = 'tnet/peers';

export const HOSTS_PREFIX = HOSTS;
export const ALIVE_PREFIX = ALIVE;
export const PEERS_KEY = PEERS;

const parse = <T>(value: string): T => JSON.parse(value) as T;

export interface HostRegistry {
  list(): Promise<HostRecord[]>;
  /** Names of hosts whose agent currently holds its lease. */
  alive(): Promise<Set<string>>;
  /** Records a host; 'exists' when the name is taken, 'conflict' when another host has the VTEP. */
  join(record: HostRecord): Promise<void>;
  leave(name: string): Promise<void>;
  /** Publishes `record` as alive for as long as the returned lease is kept. */
  keepAlive(record: HostRecord, ttlSeconds: number, onLost: (e: Error) => void): Promise<LeasedKey>;
  /** Static peers, or undefined when this store is in shared-store mode. */
  staticPeers(): Promise<HostIdentity[] | undefined>;
  setStaticPeers(peers: readonly HostIdentity[]): Promise<void>;
}

export const createHostRegistry = (store: Store): HostRegistry => {
  const list = async (): Promise<HostRecord[]> => (await store.list(HOSTS)).map((v) => parse<HostRecord>(v.value));
  return {
    list,
    alive: async () => new Set((await store.list(ALIVE)).map((v) => v.key.slice(ALIVE.length))),

    join: async (record) => {
      const other = (await list()).find((h) => h.vtep === record.vtep && h.name !== record.name);
      if (other) {
        throw new TnetError('conflict', `VTEP address ${record.vtep} is already used by host ${other.name}; each host needs its own underlay address`, { target: record.vtep });
      }
      const ok = await store.commit([{ key: HOSTS + record.name, absent: true }], [{ op: 'put', key: HOSTS + record.name, value: JSON.stringify(record) }]);
      if (!ok) {
        const current = await store.get(HOSTS + record.name);
        const vtep = current === undefined ? '?' : parse<HostRecord>(current.value).vtep;
        throw new TnetError('exists', `host ${record.name} has already joined (VTEP ${vtep}); run 'tnet host leave' on it first, or pick another --name`, { target: record.name });
      }
    },

    leave: async (name) => {
      await store.commit([], [{ op: 'delete', key: HOSTS + name }, { op: 'delete', key: ALIVE + name }]);
    },

    keepAlive: async (record, ttlSeconds, onLost) => {
      if (store.putLeased === undefined) {
        throw new TnetError('unsupported', 'this store cannot hold leases: host liveness needs a shared store (--store etcd://…)', { op: 'keepAlive' });
      }
      return store.putLeased(ALIVE + record.name, JSON.stringify(record), ttlSeconds, onLost);
    },

    staticPeers: async () => {
      const v = await store.get(PEERS);
      return v === undefined ? undefined : parse<HostIdentity[]>(v.value);
    },
    setStaticPeers: async (peers) => {
      await store.commit([], [{ op: 'put', key: PEERS, value: JSON.stringify(peers) }]);
    },
  };
};
