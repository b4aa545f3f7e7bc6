/**
 * Typed access to tnet's records in a Store. Key layout (one prefix per host scope so several
 * lab hosts can share one etcd later):
 *   tnet/networks/<name>                  -> Network
 *   tnet/endpoints/<network>/<endpointId> -> Endpoint
 *   tnet/addresses/<network>/<address>    -> endpointId (a reservation: create-if-absent makes
 *                                           an address unique even without the host lock, and
 *                                           across hosts when the store is shared)
 *   tnet/vnis/<vni>                       -> network name (overlay: a VNI names one network)
 * Host records live beside these, see hosts.ts.
 */
import { TnetError } from '../errors.js';
import type { Endpoint, Network } from '../model/types.js';
import type { Store, StoredValue, WriteOp } from '../store/types.js';

const ROOT = 'tnet';
const networkKey = (name: string): string => `${ROOT}/networks/${name}`;
const endpointsPrefix = (network: string): string => `${ROOT}/endpoints/${network}/`;
const endpointKey = (e: Pick<Endpoint, 'network' | 'id'>): string => `${endpointsPrefix(e.network)}${e.id}`;
const addressesPrefix = (network: string): string => `${ROOT}/addresses/${network}/`;
const addressKey = (network: string, address: string): string => `${addressesPrefix(network)}${address}`;

const vniKey = (vni: number): string => `${ROOT}/vnis/${vni}`;

/**
 * What a changed key holds, for a reader of watch events: an endpoint record (by network and id),
 * a reservation (addresses, VNIs: bookkeeping that always changes together with the record that
 * owns it and means nothing to the kernel), or anything else.
 */
export type RecordKey =
  | { readonly kind: 'endpoint'; readonly network: string; readonly id: string }
  | { readonly kind: 'reservation' }
  | { readonly kind: 'other' };

export const recordKeyOf = (key: string): RecordKey => {
  const [root, kind, first, second, ...rest] = key.split('/');
  if (root !== ROOT) return { kind: 'other' };
  if (kind === 'endpoints' && first !== undefined && second !== undefined && rest.length === 0) return { kind: 'endpoint', network: first, id: second };
  if (kind === 'addresses' || kind === 'vnis') return { kind: 'reservation' };
  return { kind: 'other' };
};

const addressesOf = (e: Endpoint): string[] => [e.ipv4, e.ipv6].filter((a): a is string => a !== undefined);

/**
 * Parsed records by key and revision. Records are immutable once parsed, so an unchanged record
 * is returned as the same object: listing 500 endpoints parses only the ones that changed, and
 * per-record derivations (e.g. port forwards) can be memoised on the object.
 */
const MAX_PARSED = 100_000;

const createParser = () => {
  const parsed = new Map<string, { revision: string; record: unknown }>();
  return <T>(v: StoredValue): T => {
    const hit = parsed.get(v.key);
    if (hit?.revision === v.revision) return hit.record as T;
    const record = Object.freeze(JSON.parse(v.value)) as T;
    if (parsed.size >= MAX_PARSED) parsed.clear(); // keys of deleted records are never looked up again
    parsed.set(v.key, { revision: v.revision, record });
    return record;
  };
};

export interface StateRepository {
  listNetworks(): Promise<Network[]>;
  getNetwork(name: string): Promise<Network | undefined>;
  requireNetwork(name: string): Promise<Network>;
  listEndpoints(network?: string): Promise<Endpoint[]>;
  /** Records a network; 'exists' when the name is taken. */
  createNetwork(network: Network): Promise<void>;
  /** Removes a network and every record under it. */
  deleteNetwork(name: string): Promise<void>;
  /** Records an endpoint and reserves its addresses; 'conflict' when one is taken meanwhile. */
  addEndpoint(endpoint: Endpoint): Promise<void>;
  removeEndpoint(endpoint: Endpoint): Promise<void>;
  /** Rewrites an endpoint's record (same id, network and addresses), e.g. its published ports. */
  updateEndpoint(endpoint: Endpoint): Promise<void>;
  /** Serialises changes to this host's state and kernel objects across processes. */
  withHostLock<T>(fn: () => Promise<T>): Promise<T>;
  readonly store: Store;
}

/**
 * lockName: the name of the host lock. With a shared store every host must lock only itself,
 * so the composition root passes the host's name once it is known. lock: how the host lock is
 * taken (the store's own lock unless the composition root picks a local one).
 */
export const createRepository = (
  store: Store,
  lockName: () => string = () => 'host',
  lock: <T>(name: string, fn: () => Promise<T>) => Promise<T> = (name, fn) => store.withLock(name, fn),
): StateRepository => {
  const parse = createParser();
  const listEndpoints = async (network?: string): Promise<Endpoint[]> =>
    (await store.list(network === undefined ? `${ROOT}/endpoints/` : endpointsPrefix(network))).map((v) => parse<Endpoint>(v));

  const getNetwork = async (name: string): Promise<Network | undefined> => {
    const v = await store.get(networkKey(name));
    return v === undefined ? undefined : parse<Network>(v);
  };

  return {
    store,
    listNetworks: async () => (await store.list(`${ROOT}/networks/`)).map((v) => parse<Network>(v)),
    getNetwork,
    requireNetwork: async (name) => {
      const n = await getNetwork(name);
      if (!n) throw new TnetError('notFound', `network ${JSON.stringify(name)} not found (see 'tnet ls')`, { target: name });
      return n;
    },
    listEndpoints,

    createNetwork: async (network) => {
      const vni = network.overlay === undefined ? [] : [vniKey(network.overlay.vni)];
      const ok = await store.commit([networkKey(network.name), ...vni].map((key) => ({ key, absent: true as const })), [
        { op: 'put', key: networkKey(network.name), value: JSON.stringify(network) },
        ...vni.map((key): WriteOp => ({ op: 'put', key, value: network.name })),
      ]);
      if (!ok) {
        const what = vni.length > 0 ? ` or VNI ${network.overlay?.vni} is already taken` : ' already exists';
        throw new TnetError('exists', `network ${JSON.stringify(network.name)}${what}`, { target: network.name });
      }
    },

    deleteNetwork: async (name) => {
      const current = await getNetwork(name);
      const keys = [
        networkKey(name),
        ...(current?.overlay === undefined ? [] : [vniKey(current.overlay.vni)]),
        ...(await store.list(endpointsPrefix(name))).map((v) => v.key),
        ...(await store.list(addressesPrefix(name))).map((v) => v.key),
      ];
      await store.commit([], keys.map((key): WriteOp => ({ op: 'delete', key })));
    },

    addEndpoint: async (endpoint) => {
      const reservations = addressesOf(endpoint).map((a) => addressKey(endpoint.network, a));
      const ok = await store.commit(
        [endpointKey(endpoint), ...reservations].map((key) => ({ key, absent: true as const })),
        [
          { op: 'put', key: endpointKey(endpoint), value: JSON.stringify(endpoint) },
          ...reservations.map((key): WriteOp => ({ op: 'put', key, value: endpoint.id })),
        ],
      );
      if (!ok) {
        throw new TnetError('conflict', `endpoint for ${endpoint.netns} on network ${endpoint.network} or one of its addresses (${addressesOf(endpoint).join(', ')}) is already taken`);
      }
    },

    removeEndpoint: async (endpoint) => {
      await store.commit([], [
        { op: 'delete', key: endpointKey(endpoint) },
        ...addressesOf(endpoint).map((a): WriteOp => ({ op: 'delete', key: addressKey(endpoint.network, a) })),
      ]);
    },

    updateEndpoint: async (endpoint) => {
      const current = await store.get(endpointKey(endpoint));
      const ok = current !== undefined && (await store.commit([{ key: endpointKey(endpoint), revision: current.revision }], [
        { op: 'put', key: endpointKey(endpoint), value: JSON.stringify(endpoint) },
      ]));
      if (!ok) throw new TnetError('notFound', `endpoint for ${endpoint.netns} on network ${endpoint.network} is no longer recorded`, { target: endpoint.netns });
    },

    withHostLock: (fn) => lock(lockName(), fn),
  };
};
