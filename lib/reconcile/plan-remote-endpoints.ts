/**
 * Incremental planning for endpoints that live on other hosts: when the agent sees one endpoint
 * record appear, change or go, it moves just that endpoint's FDB and neighbour entries instead of
 * diffing the whole device against a dump (plan-overlay.ts, which the full pass still runs). Pure.
 *
 * What an endpoint needs here is asked of its driver, not re-derived: its share of the network's
 * VXLAN entries is what the driver wants with that endpoint minus what it wants without it. So a
 * local endpoint, a bridge network's endpoint, a host that is not alive, or static-peer mode
 * (where entries belong to peers, not endpoints) all come out as "nothing to do".
 */
import type { ClusterView, DesiredNeighbour, DesiredVxlan } from '../drivers/types.js';
import type { Endpoint, Network } from '../model/types.js';
import type { Action } from './actions.js';
import { desiredHost } from './desired.js';

/** One endpoint record's change as the store reported it: absent before = new, absent after = gone. */
export interface EndpointChange {
  readonly before?: Endpoint;
  readonly after?: Endpoint;
}

interface Entries {
  readonly link: string;
  readonly fdb: ReadonlyMap<string, { readonly mac: string; readonly dst: string }>;
  readonly neighbours: ReadonlyMap<string, DesiredNeighbour>;
}

const NO_ENTRIES: Entries = { link: '', fdb: new Map(), neighbours: new Map() };

const vxlanOf = (network: Network, endpoints: readonly Endpoint[], cluster: ClusterView): DesiredVxlan | undefined =>
  desiredHost([network], endpoints, cluster)[0]?.objects.vxlan;

/** The entries `endpoint` adds to its network's VXLAN device on this host. */
const entriesOf = (network: Network, endpoint: Endpoint | undefined, cluster: ClusterView): Entries => {
  const withIt = endpoint === undefined ? undefined : vxlanOf(network, [endpoint], cluster);
  if (withIt === undefined) return NO_ENTRIES;
  const without = vxlanOf(network, [], cluster);
  const fdbKey = (f: { mac: string; dst: string }): string => `${f.mac}>${f.dst}`;
  const neighbourKey = (n: DesiredNeighbour): string => `${n.address}=${n.mac}`;
  const baseFdb = new Set(without?.fdb.map(fdbKey));
  const baseNeighbours = new Set(without?.neighbours.map(neighbourKey));
  return {
    link: withIt.name,
    fdb: new Map(withIt.fdb.filter((f) => !baseFdb.has(fdbKey(f))).map((f) => [fdbKey(f), f])),
    neighbours: new Map(withIt.neighbours.filter((n) => !baseNeighbours.has(neighbourKey(n))).map((n) => [neighbourKey(n), n])),
  };
};

/**
 * The actions that take this host's VXLAN entries from every change's `before` to its `after`.
 * Deletions come first (as in plan-overlay.ts): an address or MAC taken over by another endpoint
 * in the same batch loses its old entry before it gets the new one. Undefined when a change is
 * on a network this host does not know: only a full look can tell what that needs.
 */
export const planRemoteEndpointChanges = (
  networks: readonly Network[],
  cluster: ClusterView,
  changes: readonly EndpointChange[],
): Action[] | undefined => {
  const deletes: Action[] = [];
  const adds: Action[] = [];
  for (const { before, after } of changes) {
    const name = (after ?? before)?.network;
    const network = networks.find((n) => n.name === name);
    if (network === undefined) return undefined;
    const was = entriesOf(network, before, cluster);
    const is = entriesOf(network, after, cluster);
    for (const [key, f] of was.fdb) if (!is.fdb.has(key)) deletes.push({ do: 'deleteFdb', link: was.link, ...f });
    for (const [key, n] of was.neighbours) if (!is.neighbours.has(key)) deletes.push({ do: 'deleteNeighbour', link: was.link, family: n.family, address: n.address });
    for (const [key, f] of is.fdb) if (!was.fdb.has(key)) adds.push({ do: 'addFdb', link: is.link, ...f });
    for (const [key, n] of is.neighbours) if (!was.neighbours.has(key)) adds.push({ do: 'addNeighbour', link: is.link, ...n });
  }
  return [...deletes, ...adds];
};
