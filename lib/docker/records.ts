/**
 * What tnet keeps for Docker beside its own records, in the same store (Docker never replays its
 * calls, so whatever a later call needs must be here, not in memory):
 *   tnet/docker/pools/<poolId>             -> DockerPool (tnet's IPAM: a pool Docker asked for)
 *   tnet/docker/claims/<subnet>            -> poolId     (a new subnet taken by a pool: create-if-absent)
 *   tnet/docker/leases/<subnet>/<address>  -> poolId     (an address handed to Docker: create-if-absent,
 *                                                          so unique across hosts on a shared store)
 *   tnet/docker/networks/<networkId>       -> DockerAttachment (a Docker network standing for an
 *                                                          existing tnet network)
 * A Docker network that made a tnet network of its own is found by that network's label instead.
 * Each change is one commit.
 */
import { TnetError } from '../errors.js';
import type { IpFamily } from '../model/types.js';
import type { Store, WriteOp } from '../store/types.js';

const ROOT = 'tnet/docker';
const poolKey = (id: string): string => `${ROOT}/pools/${id}`;
const claimKey = (subnet: string): string => `${ROOT}/claims/${subnet}`;
const leasesPrefix = (subnet: string): string => `${ROOT}/leases/${subnet}/`;
const leaseKey = (subnet: string, address: string): string => `${leasesPrefix(subnet)}${address}`;
const attachmentKey = (networkId: string): string => `${ROOT}/networks/${networkId}`;

export interface DockerPool {
  readonly id: string;
  readonly family: IpFamily;
  readonly subnet: string;
  /** The gateway handed out (RequestAddress of the gateway); the network's own when attached. */
  readonly gateway?: string;
  readonly ipRange?: string;
  /** The existing tnet network this pool is (`--ipam-opt tnet.network=NAME`); absent for a new subnet. */
  readonly network?: string;
}

export interface DockerAttachment {
  readonly network: string;
}

const parsed = <T>(v: { value: string } | undefined): T | undefined => (v === undefined ? undefined : (JSON.parse(v.value) as T));

export interface DockerRecords {
  getPool(id: string): Promise<DockerPool | undefined>;
  listPools(): Promise<DockerPool[]>;
  /** Records a pool; a new subnet is claimed in the same commit. False when the subnet was claimed meanwhile. */
  addPool(pool: DockerPool): Promise<boolean>;
  setPoolGateway(pool: DockerPool, gateway: string): Promise<void>;
  /** Forgets a pool, its claim and its leases. */
  releasePool(pool: DockerPool): Promise<void>;
  leasedAddresses(subnet: string): Promise<string[]>;
  /** False when the address is leased already. */
  lease(pool: DockerPool, address: string): Promise<boolean>;
  releaseLease(pool: DockerPool, address: string): Promise<void>;
  getAttachment(networkId: string): Promise<DockerAttachment | undefined>;
  listAttachments(): Promise<Array<DockerAttachment & { readonly networkId: string }>>;
  attach(networkId: string, attachment: DockerAttachment): Promise<void>;
  detach(networkId: string): Promise<void>;
}

export const dockerRecords = (store: Store): DockerRecords => ({
  getPool: async (id) => parsed<DockerPool>(await store.get(poolKey(id))),
  listPools: async () => (await store.list(`${ROOT}/pools/`)).map((v) => JSON.parse(v.value) as DockerPool),
  addPool: (pool) =>
    store.commit(
      [{ key: poolKey(pool.id), absent: true }, ...(pool.network === undefined ? [{ key: claimKey(pool.subnet), absent: true as const }] : [])],
      [{ op: 'put', key: poolKey(pool.id), value: JSON.stringify(pool) }, ...(pool.network === undefined ? [{ op: 'put' as const, key: claimKey(pool.subnet), value: pool.id }] : [])],
    ),
  setPoolGateway: async (pool, gateway) => {
    const current = await store.get(poolKey(pool.id));
    const ok = current !== undefined && (await store.commit([{ key: current.key, revision: current.revision }], [{ op: 'put', key: current.key, value: JSON.stringify({ ...pool, gateway }) }]));
    if (!ok) throw new TnetError('busy', `pool ${pool.id} changed meanwhile; try again`, { target: pool.id });
  },
  releasePool: async (pool) => {
    const leases = (await store.list(leasesPrefix(pool.subnet))).filter((v) => v.value === pool.id).map((v) => v.key);
    const claim = await store.get(claimKey(pool.subnet));
    const ops: WriteOp[] = [poolKey(pool.id), ...leases, ...(claim?.value === pool.id ? [claim.key] : [])].map((key) => ({ op: 'delete', key }));
    await store.commit([], ops);
  },
  leasedAddresses: async (subnet) => (await store.list(leasesPrefix(subnet))).map((v) => v.key.slice(leasesPrefix(subnet).length)),
  lease: (pool, address) => store.commit([{ key: leaseKey(pool.subnet, address), absent: true }], [{ op: 'put', key: leaseKey(pool.subnet, address), value: pool.id }]),
  releaseLease: async (pool, address) => {
    const current = await store.get(leaseKey(pool.subnet, address));
    if (current?.value === pool.id) await store.commit([{ key: current.key, revision: current.revision }], [{ op: 'delete', key: current.key }]);
  },
  getAttachment: async (networkId) => parsed<DockerAttachment>(await store.get(attachmentKey(networkId))),
  listAttachments: async () => (await store.list(`${ROOT}/networks/`)).map((v) => ({ ...(JSON.parse(v.value) as DockerAttachment), networkId: v.key.slice(`${ROOT}/networks/`.length) })),
  attach: async (networkId, attachment) => {
    await store.commit([], [{ op: 'put', key: attachmentKey(networkId), value: JSON.stringify(attachment) }]);
  },
  detach: async (networkId) => {
    await store.commit([], [{ op: 'delete', key: attachmentKey(networkId) }]);
  },
});
