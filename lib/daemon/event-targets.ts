/**
 * Kernel events -> targets. Pure. The rule: an event that shows one of our objects gone, or in a
 * state other than wanted, asks for a pass over just what owns it; an event that shows our object
 * exactly as wanted (the echo of a pass's own repair, or of a CLI call) asks for nothing. When in
 * doubt an event asks for a pass: an extra pass costs milliseconds, a missed one lasts until the
 * periodic full pass.
 */
import type { NftBatch, RtnlEvent } from '../kernel/event-types.js';
import { parseOwnerAlias } from '../model/names.js';
import { cidrKey, endpointsIn, type DriftIndex, type WantedInterface } from './drift-index.js';
import type { Target } from './targets.js';

/** Link names and indexes of one namespace, kept from link events (address and neighbour events carry only the index). */
export interface LinkNames {
  name(index: number): string | undefined;
  index(name: string): number | undefined;
  /** Follows a link event; returns the name the link had before (a rename shows there). */
  track(e: RtnlEvent): string | undefined;
}

export const linkNames = (links: Iterable<readonly [number, string]> = []): LinkNames => {
  const byIndex = new Map<number, string>();
  const byName = new Map<string, number>();
  const set = (index: number, name: string | undefined): void => {
    const old = byIndex.get(index);
    if (old !== undefined && byName.get(old) === index) byName.delete(old);
    if (name === undefined) byIndex.delete(index);
    else (byIndex.set(index, name), byName.set(name, index));
  };
  for (const [index, name] of links) set(index, name);
  return {
    name: (index) => byIndex.get(index),
    index: (name) => byName.get(name),
    track: (e) => {
      if (e.kind !== 'link') return undefined;
      const previous = byIndex.get(e.index);
      set(e.index, e.op === 'del' ? undefined : e.name);
      return previous;
    },
  };
};

const NETWORKS: Target = { kind: 'networks' };
const OUR_PREFIX = /^tn(br-|vx-|v[0-9a-f])/;
const isLinkLocal = (address: string): boolean => address.toLowerCase().startsWith('fe80:');

/** Host namespace: `names` already follows this event; `previousName` is what track() returned. */
export const hostEventTargets = (index: DriftIndex, names: LinkNames, e: RtnlEvent, previousName?: string): Target[] => {
  switch (e.kind) {
    case 'link': {
      const network = index.networkLinks.get(e.name);
      if (network !== undefined) {
        if (e.op === 'new' && e.up && e.mtu === network.mtu && e.alias === network.alias) return [];
        // A bridge that goes takes its ports out: look at them in the same pass, not port by port.
        return [NETWORKS, ...(index.ports.get(e.name) ?? []).map((id): Target => ({ kind: 'hostSide', id }))];
      }
      const veth = index.hostVeths.get(e.name);
      if (veth !== undefined) {
        const fine = e.op === 'new' && e.up && e.mtu === veth.mtu && e.alias === veth.alias && e.masterIndex !== undefined && e.masterIndex === names.index(veth.master);
        return fine ? [] : [{ kind: 'hostSide', id: veth.endpointId }];
      }
      // A link of ours renamed away: what it was called is what needs looking at.
      if (previousName !== undefined && previousName !== e.name) return hostEventTargets(index, names, { ...e, op: 'del', name: previousName });
      const ours = (e.alias !== undefined && parseOwnerAlias(e.alias) !== undefined) || OUR_PREFIX.test(e.name);
      return e.op === 'new' && ours ? [{ kind: 'goneLink', name: e.name }] : [];
    }
    case 'address': {
      const link = index.networkLinks.get(names.name(e.index) ?? '');
      if (link === undefined || isLinkLocal(e.address)) return [];
      return link.addresses.has(cidrKey(e)) === (e.op === 'del') ? [NETWORKS] : [];
    }
    case 'neighbour':
      // Only tnet's entries live on its VXLAN devices (learning off); a removal does not say
      // whether the entry was permanent (the kernel demotes it first), so any removal counts.
      return e.op === 'del' && index.vxlans.has(names.name(e.index) ?? '') ? [NETWORKS] : [];
    case 'netconf':
      return e.index === -1 && e.forwarding === false && index.forwarding.has(e.family) ? [NETWORKS] : [];
    case 'route':
      return [];
  }
};

const forEndpoints = (ids: readonly string[]): Target[] => ids.map((id) => ({ kind: 'endpoint', id }));

/** A container namespace: `names` (that namespace's) already follows this event. */
export const containerEventTargets = (index: DriftIndex, path: string, names: LinkNames, e: RtnlEvent, previousName?: string): Target[] => {
  const wants = index.namespaces.get(path) ?? [];
  const all = (): Target[] => forEndpoints(endpointsIn(index, path));
  const byName = (name: string | undefined): WantedInterface | undefined => wants.find((w) => w.ifname === name);
  switch (e.kind) {
    case 'link': {
      if (e.name === 'lo') return e.op === 'new' && e.up ? [] : all();
      const want = byName(e.name) ?? byName(previousName);
      if (want === undefined) return [];
      const fine = e.op === 'new' && e.name === want.ifname && e.up && e.mtu === want.mtu && e.mac === want.mac;
      return fine ? [] : forEndpoints([want.endpointId]);
    }
    case 'address': {
      if (isLinkLocal(e.address)) return [];
      const want = byName(names.name(e.index));
      if (e.op === 'del') {
        const owner = want ?? wants.find((w) => w.addresses.has(cidrKey(e)));
        return owner !== undefined && owner.addresses.has(cidrKey(e)) ? forEndpoints([owner.endpointId]) : [];
      }
      return want !== undefined && !want.addresses.has(cidrKey(e)) ? forEndpoints([want.endpointId]) : [];
    }
    case 'route': {
      if (e.op !== 'del') return [];
      return forEndpoints(wants.filter((w) => w.routes.has(e.destination)).map((w) => w.endpointId));
    }
    default:
      return [];
  }
};

const NFPROTO_INET = 1;
/** More endpoints than this in one foreign transaction (a flushed map): a full pass is as cheap. */
export const MAX_ENDPOINTS_PER_BATCH = 64;

/**
 * One nftables transaction. Ours (this process's) is never drift. Another's touching `inet tnet`
 * asks for the network part (the table's structure is compared in every pass), plus the endpoints
 * whose port-forward elements it touched (a scoped pass re-adds an endpoint's elements).
 */
export const nftBatchTargets = (index: DriftIndex, batch: NftBatch, selfPid: number, table = 'tnet'): Target[] => {
  if (batch.pid === selfPid) return [];
  const ours = batch.events.filter((e) => e.family === NFPROTO_INET && e.table === table);
  if (ours.length === 0) return [];
  const endpoints = new Set<string>();
  for (const e of ours) for (const c of e.comments) {
    const id = index.byOwner.get(c);
    if (id !== undefined) endpoints.add(id);
  }
  if (endpoints.size > MAX_ENDPOINTS_PER_BATCH) return [{ kind: 'full' }];
  return [NETWORKS, ...forEndpoints([...endpoints])];
};
