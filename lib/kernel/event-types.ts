/**
 * Kernel change notifications as tnet reads them: the few fields of an rtnetlink or nftables
 * message that say which object changed. Produced by rtnl-event-parse.ts and nft-event-parse.ts
 * (pure), delivered by event-sockets.ts. An event is a hint of what to look at, never the state
 * itself: the daemon's scoped reconcile pass reads the kernel again before it changes anything.
 */
import type { IpFamily } from '../model/types.js';

export type EventOp = 'new' | 'del';

export type RtnlEvent =
  | {
      readonly kind: 'link';
      readonly op: EventOp;
      readonly index: number;
      readonly name: string;
      readonly up: boolean;
      readonly mtu: number;
      readonly mac: string;
      readonly masterIndex?: number;
      readonly alias?: string;
    }
  | { readonly kind: 'address'; readonly op: EventOp; readonly index: number; readonly family: IpFamily; readonly address: string; readonly prefixLength: number }
  | { readonly kind: 'route'; readonly op: EventOp; readonly family: IpFamily; readonly destination: string; readonly outIndex?: number }
  /** ARP/NDP entries and (bridge: true) FDB entries. */
  | { readonly kind: 'neighbour'; readonly op: EventOp; readonly index: number; readonly bridge: boolean; readonly permanent: boolean; readonly self: boolean }
  /** A forwarding sysctl changed; index -1 is `all` (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding). */
  | { readonly kind: 'netconf'; readonly family: IpFamily; readonly index: number; readonly forwarding?: boolean };

export type NftObject = 'table' | 'chain' | 'rule' | 'set' | 'element' | 'object' | 'flowtable';

export interface NftEvent {
  readonly op: EventOp;
  readonly object: NftObject;
  /** NFPROTO_* of the table: 1 inet, 2 ip, 10 ip6, 7 bridge, 3 arp, 5 netdev. */
  readonly family: number;
  readonly table: string;
  /** The set or map an element event is about. */
  readonly set?: string;
  /** Comments of the elements of an element event (tnet writes its owner tag there). */
  readonly comments: readonly string[];
}

/** One nftables transaction as notified: its changes, then the generation message naming who made it. */
export interface NftBatch {
  readonly pid: number;
  readonly events: readonly NftEvent[];
}
