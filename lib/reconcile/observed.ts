/** What a reconcile pass saw in the kernel; produced by observe.ts, consumed by the pure planner. */
import type { AddressState, FdbEntry, LinkState, NeighbourEntry, RouteState } from '../kernel/types.js';

export interface ObservedNamespace {
  readonly links: readonly LinkState[];
  readonly addresses: readonly AddressState[];
  readonly routes: readonly RouteState[];
}

export type ObservedEndpoint =
  | { readonly state: 'present'; readonly ns: ObservedNamespace }
  /** The container namespace no longer exists (the container is gone). */
  | { readonly state: 'netnsGone' }
  /** Not looked at in this pass (out of scope and nothing on the host side suggested drift). */
  | { readonly state: 'notObserved' };

export interface ObservedHost {
  readonly host: ObservedNamespace;
  readonly sysctls: ReadonlyMap<string, string>;
  /** Signature of our nft table as listed (see firewall/encode.ts), undefined when absent. */
  readonly firewall: string | undefined;
  readonly endpoints: ReadonlyMap<string, ObservedEndpoint>; // by endpoint id
  /** Host-namespace FDB and IPv4 neighbour entries; read only when an overlay is wanted or present. */
  readonly fdb?: readonly FdbEntry[];
  readonly neighbours?: readonly NeighbourEntry[];
}
