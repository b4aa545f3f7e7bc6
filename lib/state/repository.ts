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
import { inTurns, type Locker } from './turns.js';

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
  // Docker's pools and leases (docker/records.ts) are bookkeeping of the same sort.
  if (kind === 'addresses' || kind === 'vnis' || kind === 'docker') return { kind: 'reservation' };
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

/** Some networks and endpoints, for operations on several records at once. */
export interface RecordSet {
  readonly networks?: readonly Network[];
  readonly endpoints?: readonly Endpoint[];
}

export interface StateRepository {
  listNetworks(): Promise<Network[]>;
  getNetwork(name: string): Promise<Network | undefined>;
  requireNetwork(name: string): Promise<Network>;
  listEndpoints(network?: string): Promise<Endpoint[]>;
  /** Records a network; 'exists' when the name is taken. */
  createNetwork(network: Network): Promise<void>;
  /** Records an endpoint and reserves its addresses; 'conflict' when one is taken meanwhile. */
  addEndpoint(endpoint: Endpoint): Promise<void>;
  /**
   * Rewrites records in one commit (a phase, published ports; an endpoint keeps its id, network
   * and addresses); 'notFound' when one of them was removed meanwhile.
   */
  rewrite(records: RecordSet): Promise<void>;
  /**
   * Deletes records in one commit: networks with every record under them, endpoints with their
   * address reservations. Only for records whose kernel side is gone (see RecordPhase).
   */
  forget(records: RecordSet): Promise<void>;
  /**
   * Gives a network another name in one commit, with its endpoints and reservations: kernel
   * objects derive from ids, never from names, so nothing else changes. 'conflict' when the name
   * is taken or the network changed meanwhile.
   */
  renameNetwork(network: Network, name: string): Promise<void>;
  /** Serialises changes to this host's state and kernel objects across processes. */
  withHostLock<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Resolves once no call of this process has held or waited for the host lock for quietMs, or
   * after maxMs: the daemon's looks at the echoes of a call's changes wait for the calls, instead
   * of slowing them.
   */
  hostLockFree(maxMs: number, quietMs?: number): Promise<void>;
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
  lock: Locker = (name, fn) => store.withLock(name, fn),
): StateRepository => {
  const parse = createParser();
  const hostLock = inTurns(lock);
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

    rewrite: async ({ networks = [], endpoints = [] }) => {
      const writes = [
        ...networks.map((n) => ({ key: networkKey(n.name), value: JSON.stringify(n), what: `network ${n.name}` })),
        ...endpoints.map((e) => ({ key: endpointKey(e), value: JSON.stringify(e), what: `endpoint for ${e.netns} on network ${e.network}` })),
      ];
      if (writes.length === 0) return;
      const current = await Promise.all(writes.map((w) => store.get(w.key)));
      const gone = writes.find((_, i) => current[i] === undefined);
      const ok = gone === undefined && (await store.commit(
        current.flatMap((c) => (c === undefined ? [] : [{ key: c.key, revision: c.revision }])),
        writes.map(({ key, value }): WriteOp => ({ op: 'put', key, value })),
      ));
      if (!ok) throw new TnetError('notFound', `${gone?.what ?? 'a record'} is no longer recorded (changed meanwhile by another process)`, { target: gone?.key ?? '' });
    },

    forget: async ({ networks = [], endpoints = [] }) => {
      const underNetworks = await Promise.all(networks.map(async (n) => [
        networkKey(n.name),
        ...(n.overlay === undefined ? [] : [vniKey(n.overlay.vni)]),
        ...(await store.list(endpointsPrefix(n.name))).map((v) => v.key),
        ...(await store.list(addressesPrefix(n.name))).map((v) => v.key),
      ]));
      const keys = [
        ...underNetworks.flat(),
        ...endpoints.flatMap((e) => [endpointKey(e), ...addressesOf(e).map((a) => addressKey(e.network, a))]),
      ];
      if (keys.length > 0) await store.commit([], [...new Set(keys)].map((key): WriteOp => ({ op: 'delete', key })));
    },

    renameNetwork: async (network, name) => {
      const [current, endpoints, reservations] = await Promise.all([
        store.get(networkKey(network.name)),
        store.list(endpointsPrefix(network.name)),
        store.list(addressesPrefix(network.name)),
      ]);
      const moved = (v: StoredValue, key: string, value: string): WriteOp[] => [{ op: 'delete', key: v.key }, { op: 'put', key, value }];
      const ok = current !== undefined && (await store.commit(
        [{ key: networkKey(name), absent: true }, ...[current, ...endpoints].map((v) => ({ key: v.key, revision: v.revision }))],
        [
          ...moved(current, networkKey(name), JSON.stringify({ ...network, name })),
          ...endpoints.flatMap((v) => {
            const e = parse<Endpoint>(v);
            return moved(v, endpointKey({ network: name, id: e.id }), JSON.stringify({ ...e, network: name }));
          }),
          ...reservations.flatMap((v) => moved(v, addressKey(name, v.key.slice(addressesPrefix(network.name).length)), v.value)),
          ...(network.overlay === undefined ? [] : [{ op: 'put' as const, key: vniKey(network.overlay.vni), value: name }]),
        ],
      ));
      if (!ok) throw new TnetError('conflict', `network ${JSON.stringify(network.name)} cannot be renamed to ${JSON.stringify(name)}: that name is taken, or the network changed meanwhile`, { target: name });
    },

    withHostLock: (fn) => hostLock.take(lockName(), fn),
    hostLockFree: (maxMs, quietMs) => hostLock.free(lockName(), maxMs, quietMs),
  };
};
