/**
 * What the DNS server knows, built from the store's records in one go: which addresses it
 * listens on (each DNS-enabled network's gateways), who is asking (a source address is an
 * endpoint of the listener's network; its namespace is on a set of networks), and the names and
 * addresses of every endpoint on those networks, on every host. Pure; rebuilt on every change, so
 * a lookup never sees a half-applied update.
 *
 * An endpoint resolves once its creation is done and stops resolving from the moment its removal
 * is recorded (phase 'removing'), before its interface goes.
 */
import { dnsKey, servesDns } from '../model/dns-name.js';
import { cidrContains, formatAddress, tryParseAddress } from '../model/cidr.js';
import type { Endpoint, Network } from '../model/types.js';

export interface ZoneEndpoint {
  /** What its address resolves back to (PTR): its name, else its first alias. */
  readonly name?: string;
  readonly network: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
}

interface ZoneNetwork {
  readonly network: Network;
  /** Names and aliases, case-folded, to every endpoint holding them. */
  readonly byName: ReadonlyMap<string, readonly ZoneEndpoint[]>;
  readonly byAddress: ReadonlyMap<string, ZoneEndpoint & { readonly netnsKey: string }>;
}

/** The namespace a query came from: the networks it may see names of. */
export interface Asker {
  readonly networks: readonly string[];
  /** Whether names outside tnet are forwarded for it: it is on a network that is not internal. */
  readonly forwards: boolean;
}

export interface Zone {
  /** Gateway addresses to listen on, with the network each belongs to. */
  readonly listeners: ReadonlyMap<string, string>;
  /** The asker behind a source address on a listener's network; undefined: not its endpoint. */
  askerOf(source: string, network: string): Asker | undefined;
  /**
   * Endpoints answering to a name, seen by the asker: a name or alias on one of its networks, or
   * NAME.NETWORK. `authoritative` says the name is tnet's to answer (a single label, or under one
   * of the asker's networks): a miss there is NXDOMAIN, never forwarded.
   */
  lookup(asker: Asker, qname: string): { readonly holders: readonly ZoneEndpoint[]; readonly authoritative: boolean };
  /** The endpoint with this address on one of the asker's networks, and whether the address is inside one of their subnets. */
  reverse(asker: Asker, address: string): { readonly holder?: ZoneEndpoint; readonly authoritative: boolean };
}

/** Canonical text of an address (RFC 5952 for IPv6), as records store it; undefined if it is none. */
export const canonicalAddress = (s: string): string | undefined => {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) return s; // dotted quad, as the kernel reports sources: canonical already
  const a = tryParseAddress(s.startsWith('::ffff:') && s.includes('.') ? s.slice(7) : s);
  return a === undefined ? undefined : formatAddress(a.family, a.value);
};


const netnsKeyOf = (e: Endpoint): string => `${e.host ?? ''}\0${e.netns}`;

const add = <K, V>(map: Map<K, V[]>, key: K, value: V): void => {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
};

export const buildZone = (networks: readonly Network[], endpoints: readonly Endpoint[]): Zone => {
  const served = new Map<string, ZoneNetwork>();
  const listeners = new Map<string, string>();
  const networksOfNetns = new Map<string, string[]>();
  const byLowerName = new Map<string, string[]>();
  for (const network of networks.filter((n) => n.phase !== 'removing' && servesDns(n))) {
    const byName = new Map<string, ZoneEndpoint[]>();
    const byAddress = new Map<string, ZoneEndpoint & { netnsKey: string }>();
    for (const e of endpoints) {
      if (e.network !== network.name || e.phase !== undefined) continue;
      const ptrName = e.name ?? e.aliases[0];
      const z: ZoneEndpoint = {
        network: network.name,
        ...(ptrName === undefined ? {} : { name: ptrName }),
        ...(e.ipv4 === undefined ? {} : { ipv4: e.ipv4 }),
        ...(e.ipv6 === undefined ? {} : { ipv6: e.ipv6 }),
      };
      const keys = new Set([...(e.name === undefined ? [] : [e.name]), ...e.aliases].map(dnsKey));
      for (const key of keys) add(byName, key, z);
      const netnsKey = netnsKeyOf(e);
      for (const a of [e.ipv4, e.ipv6]) if (a !== undefined) byAddress.set(a, { ...z, netnsKey });
      add(networksOfNetns, netnsKey, network.name);
    }
    served.set(network.name, { network, byName, byAddress });
    add(byLowerName, network.name.toLowerCase(), network.name);
    for (const cfg of [network.ipv4, network.ipv6]) if (cfg !== undefined) listeners.set(cfg.gateway, network.name);
  }

  const askerOf = (source: string, network: string): Asker | undefined => {
    const e = served.get(network)?.byAddress.get(source);
    if (e === undefined) return undefined;
    const names = networksOfNetns.get(e.netnsKey) ?? [];
    return { networks: names, forwards: names.some((n) => served.get(n)?.network.internal === false) };
  };

  const holdersIn = (network: string, key: string): readonly ZoneEndpoint[] => served.get(network)?.byName.get(key) ?? [];

  return {
    listeners,
    askerOf,
    lookup: (asker, qname) => {
      const key = dnsKey(qname);
      const holders = asker.networks.flatMap((n) => holdersIn(n, key));
      let authoritative = !key.includes('.');
      // NAME.NETWORK; network names may hold dots themselves, so every split is tried.
      for (let dot = key.indexOf('.'); dot > 0; dot = key.indexOf('.', dot + 1)) {
        const suffix = key.slice(dot + 1);
        for (const n of (byLowerName.get(suffix) ?? []).filter((x) => asker.networks.includes(x))) {
          authoritative = true;
          holders.push(...holdersIn(n, key.slice(0, dot)));
        }
      }
      return { holders: [...new Set(holders)], authoritative };
    },
    reverse: (asker, address) => {
      let authoritative = false;
      for (const n of asker.networks) {
        const z = served.get(n);
        const holder = z?.byAddress.get(address);
        if (holder !== undefined) return { holder, authoritative: true };
        const cfgs = [z?.network.ipv4, z?.network.ipv6].filter((c) => c !== undefined);
        if (cfgs.some((c) => cidrContains(c.subnet, address))) authoritative = true;
      }
      return { authoritative };
    },
  };
};
