/**
 * What the rest of tnet may ask of the kernel. Implementations live in this folder and are the
 * only code that talks to rtnetlink, setns(2) or libnftables. Every method maps kernel errno to a
 * TnetError kind (exists, notFound, permission, busy, unsupported, kernel) in one place.
 */
import type { IpFamily } from '../model/types.js';
import type { NetnsEtcFiles } from './netns-etc.js';

/** An open network namespace: its fd stays valid until close(), even if the path is unmounted. */
export interface NetnsHandle {
  readonly path: string;
  readonly fd: number;
  close(): void;
}

export interface LinkState {
  readonly index: number;
  readonly name: string;
  /** IFLA_INFO_KIND: 'bridge', 'veth', 'vxlan', … ; undefined for physical/loopback. */
  readonly kind?: string;
  readonly mtu: number;
  readonly up: boolean; // IFF_UP administratively
  readonly mac: string; // lower-case aa:bb:..
  readonly masterIndex?: number;
  /** For a bridge port: whether hairpin mode is on. */
  readonly hairpin?: boolean;
  /** IFLA_IFALIAS: tnet writes its owner tag here ("tnet:<network-id>:<endpoint-id>"). */
  readonly alias?: string;
  /** IFLA_GROUP: tnet's links are born in TNET_LINK_GROUP (model/names.ts). */
  readonly group?: number;
  /** Set for VXLAN links: what decides whether an existing device can be reused. */
  readonly vxlan?: VxlanState;
}

export interface VxlanState {
  readonly vni: number;
  /** Local VTEP address, plain IPv4. */
  readonly local?: string;
  /** Destination UDP port. */
  readonly port: number;
  readonly learning: boolean;
  /** ARP/ND answered by the device from its neighbour table. */
  readonly proxy: boolean;
}

/** A bridge FDB entry on a device (family AF_BRIDGE), as `bridge fdb show` lists it. */
export interface FdbEntry {
  readonly linkIndex: number;
  readonly mac: string;
  /** Remote VTEP (VXLAN devices only). */
  readonly dst?: string;
  readonly permanent: boolean;
  /** NTF_SELF: the entry lives in the device's own table (VXLAN), not the bridge's. */
  readonly self: boolean;
}

/** An ARP (IPv4) / NDP (IPv6) neighbour entry. */
export interface NeighbourEntry {
  readonly linkIndex: number;
  readonly family: IpFamily;
  readonly address: string;
  readonly mac?: string;
  readonly permanent: boolean;
}

export interface AddressState {
  readonly linkIndex: number;
  readonly family: IpFamily;
  readonly address: string; // plain, canonical
  readonly prefixLength: number;
}

export interface RouteState {
  readonly family: IpFamily;
  /** CIDR, "0.0.0.0/0" / "::/0" for default routes. */
  readonly destination: string;
  readonly gateway?: string;
  readonly outIndex?: number;
  /** RTA_PRIORITY; the kernel prefers the lowest among routes to the same destination. */
  readonly metric?: number;
  readonly table: number;
  readonly protocol: number;
  readonly scope: number;
}

export interface LinkChange {
  readonly up?: boolean;
  readonly mtu?: number;
  readonly masterIndex?: number | null; // null: release from master
  readonly mac?: string;
  readonly alias?: string;
  /** No IPv6 link-local address on this link (IFLA_INET6_ADDR_GEN_MODE none). */
  readonly noIpv6LinkLocal?: boolean;
  /** Bridge port hairpin mode: frames may leave through the port they came in by (published ports). */
  readonly hairpin?: boolean;
}

/** A netlink session bound to one namespace for its whole life. */
export interface NetlinkSession {
  listLinks(): Promise<LinkState[]>;
  /** One link by name, undefined when there is none: O(1) where a dump is O(links). */
  getLink(name: string): Promise<LinkState | undefined>;
  listAddresses(family?: IpFamily): Promise<AddressState[]>;
  listRoutes(family: IpFamily): Promise<RouteState[]>;

  /** Links are created down unless `up`; with `alias` they are tagged in a second request. */
  createBridge(name: string, opts: { mtu: number; mac?: string; alias?: string; up?: boolean }): Promise<LinkState>;
  /**
   * Creates a veth pair whose peer is born directly inside `peer.netns` with its final name, so
   * nothing ever appears under a temporary name. Returns the host side.
   */
  createVethPair(
    name: string,
    opts: { mtu: number; alias?: string; masterIndex?: number; noIpv6LinkLocal?: boolean; up?: boolean; hairpin?: boolean },
    peer: { name: string; netns: NetnsHandle; mtu: number; mac?: string },
  ): Promise<LinkState>;
  /**
   * A VXLAN device: unicast only (no group), UDP `port`, source address `local`, learning off so
   * remote MACs come only from entries we program; with `proxy` it answers ARP from its neighbours.
   */
  createVxlan(
    name: string,
    opts: { mtu: number; alias?: string; masterIndex?: number; vni: number; local: string; port: number; proxy: boolean; up?: boolean },
  ): Promise<LinkState>;
  setLink(index: number, change: LinkChange): Promise<void>;
  /** Accepts a link that is already gone. */
  deleteLink(index: number): Promise<void>;

  /** Adds an address (IPv6 with nodad); accepts one that is already there. */
  addAddress(linkIndex: number, family: IpFamily, address: string, prefixLength: number): Promise<void>;
  deleteAddress(linkIndex: number, family: IpFamily, address: string, prefixLength: number): Promise<void>;

  /** Adds a route in the main table; accepts an identical one that is already there. */
  addRoute(route: { family: IpFamily; destination: string; gateway?: string; outIndex: number; metric?: number }): Promise<void>;
  deleteRoute(route: { family: IpFamily; destination: string; gateway?: string; outIndex?: number; metric?: number }): Promise<void>;

  /** FDB entries of one device (or all devices). */
  listFdb(linkIndex?: number): Promise<FdbEntry[]>;
  /**
   * A permanent FDB entry in the device's own table (NTF_SELF): `mac` is reached through VTEP
   * `dst`. Several entries for one MAC (the all-zero flood MAC) are appended. Accepts an existing one.
   */
  addFdb(linkIndex: number, mac: string, dst: string): Promise<void>;
  /** Accepts an entry that is already gone. */
  deleteFdb(linkIndex: number, mac: string, dst: string): Promise<void>;
  listNeighbours(family: IpFamily): Promise<NeighbourEntry[]>;
  /** A permanent neighbour entry; replaces one for the same address. */
  addNeighbour(linkIndex: number, family: IpFamily, address: string, mac: string): Promise<void>;
  /** Accepts an entry that is already gone. */
  deleteNeighbour(linkIndex: number, family: IpFamily, address: string): Promise<void>;

  close(): void;
}

/** libnftables bound to one namespace. One call = one atomic transaction. */
export interface NftSession {
  /** Runs nft JSON commands ({nftables:[...]}) or nft text; throws TnetError with nft's message. */
  run(commands: string | { nftables: unknown[] }): string;
  /**
   * `list table FAMILY NAME` as parsed JSON items, or undefined when the table does not exist.
   * elements: false leaves out the elements of sets and maps (cheap whatever their number).
   */
  listTable(family: string, name: string, options?: { readonly elements?: boolean }): unknown[] | undefined;
  /** `list set|map FAMILY TABLE NAME` with its elements, or undefined when it does not exist. */
  listSet(family: string, table: string, name: string, kind: 'set' | 'map'): unknown[] | undefined;
  close(): void;
}

/**
 * Observers of what the kernel layer does. beforeChange hears of every request that changes the
 * kernel (each netlink request, nft transaction and sysctl write) just before it is sent: the
 * crash tests kill the process there, step by step (lib/step-points.ts).
 */
export interface KernelHooks {
  readonly beforeChange?: (what: string) => void;
}

/** Everything kernel-facing for one "host" namespace (the real host, or a lab/test host netns). */
export interface Kernel {
  readonly hostNetns: NetnsHandle;
  /** A netlink session in the host namespace (kept open for the kernel object's life). */
  readonly host: NetlinkSession;
  /** A netlink session inside another namespace (e.g. a container's); caller closes it. */
  sessionIn(netns: NetnsHandle): NetlinkSession;
  readonly nft: NftSession;
  /** Opens a namespace by path, /run/netns name, or PID; notFound when it does not exist. */
  openNetns(ref: string): NetnsHandle;
  readSysctl(netns: NetnsHandle, key: string): string; // key like "net/ipv4/ip_forward"
  writeSysctl(netns: NetnsHandle, key: string, value: string): void;
  /** /etc/netns/NAME files of named namespaces (their resolv.conf). */
  readonly etc: NetnsEtcFiles;
  close(): void;
}
