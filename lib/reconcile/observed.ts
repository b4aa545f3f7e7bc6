/** What a reconcile pass saw in the kernel; produced by observe.ts, consumed by the pure planner. */
import type { NftElement } from '../firewall/forwards.js';
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
  /** Its host side was looked at, its namespace was not (nothing there suggested drift). */
  | { readonly state: 'notObserved' }
  /** Not looked at at all: a scoped pass leaves this endpoint alone. */
  | { readonly state: 'outOfScope' };

export interface ObservedHost {
  readonly host: ObservedNamespace;
  readonly sysctls: ReadonlyMap<string, string>;
  /** Signature of our nft table as listed (see firewall/encode.ts), undefined when absent. */
  readonly firewall: string | undefined;
  /**
   * Elements of the port-forward maps, undefined when not read: listing them costs O(mappings),
   * so only full passes (apply, drift repair) read them; scoped passes write blind (see plan-forwards.ts).
   */
  readonly forwardElements?: readonly NftElement[];
  readonly endpoints: ReadonlyMap<string, ObservedEndpoint>; // by endpoint id
  /** Host-namespace FDB and neighbour entries (both families); read only when an overlay is wanted or present. */
  readonly fdb?: readonly FdbEntry[];
  readonly neighbours?: readonly NeighbourEntry[];
}
