/**
 * Drivers turn a network and its endpoints into the kernel objects that should exist. They are
 * pure: they never touch the kernel, so a plan can be printed (`tnet diff`) and unit-tested.
 */
import type { DriverKind, Endpoint, IpFamily, Network } from '../model/types.js';

export interface DesiredAddress {
  readonly family: IpFamily;
  readonly address: string;
  readonly prefixLength: number;
}

export interface DesiredRoute {
  readonly family: IpFamily;
  readonly destination: string; // CIDR; "0.0.0.0/0" / "::/0" for the default route
  readonly gateway: string;
  /** Several networks in one namespace each bring a default route; the lowest metric wins. */
  readonly metric: number;
}

export interface DesiredSysctl {
  readonly key: string; // e.g. "net/ipv4/ip_forward"
  readonly value: string;
}

export interface DesiredBridge {
  readonly name: string;
  readonly mtu: number;
  /** Fixed (model/names.ts bridgeMacFor), so it never follows the ports. */
  readonly mac: string;
  readonly alias: string; // owner tag
  readonly addresses: readonly DesiredAddress[];
}

/** What the firewall must do for one network (rendered into the shared `inet tnet` table). */
export interface NetworkFirewall {
  readonly networkId: string;
  readonly bridge: string;
  readonly subnets: readonly string[];
  readonly internal: boolean;
}

/** A VXLAN device on the network's bridge and the remote entries it needs (overlay driver). */
export interface DesiredVxlan {
  readonly name: string;
  readonly vni: number;
  readonly local: string; // this host's VTEP address
  readonly port: number;
  readonly mtu: number;
  readonly alias: string;
  readonly master: string; // the network's bridge
  /**
   * ARP requests and IPv6 Neighbour Solicitations answered from `neighbours` (shared-store mode);
   * off when they must cross the tunnel (static peers).
   */
  readonly proxy: boolean;
  /** Device FDB: which remote VTEP a MAC is behind; the all-zero MAC lists flood destinations. */
  readonly fdb: ReadonlyArray<{ readonly mac: string; readonly dst: string }>;
  /** Permanent ARP (IPv4) and NDP (IPv6) entries for remote endpoints, answered by the proxying device. */
  readonly neighbours: readonly DesiredNeighbour[];
}

export interface DesiredNeighbour {
  readonly family: IpFamily;
  readonly address: string;
  readonly mac: string;
}

/** What a host knows about the cluster it belongs to (see service/cluster.ts). */
export interface ClusterView {
  /** This host, once it has joined (`tnet host join`) or applied a spec with `host:`. */
  readonly self?: { readonly name: string; readonly vtep: string };
  /** Other live hosts by name -> VTEP address; a host whose lease expired is not here. */
  readonly peers: ReadonlyMap<string, string>;
  /**
   * 'store': every endpoint is in the shared store, so each remote MAC gets its own FDB entry.
   * 'static': peers come from a spec file and their endpoints are unknown: flood to the peers.
   */
  readonly mode: 'store' | 'static';
}

export interface NetworkObjects {
  readonly bridge?: DesiredBridge;
  readonly vxlan?: DesiredVxlan;
  /** Host-namespace sysctls this network needs; they are never reverted (other networks may need them). */
  readonly sysctls: readonly DesiredSysctl[];
  readonly firewall?: NetworkFirewall;
}

export interface ContainerInterface {
  readonly ifname: string;
  readonly mac: string;
  readonly mtu: number;
  readonly addresses: readonly DesiredAddress[];
  readonly routes: readonly DesiredRoute[];
  /**
   * The runtime decides which interface routes the namespace (Docker moves its gateway endpoint
   * before it tells the driver): a route to the same destination and metric through another
   * interface is its choice, not drift, and is left alone.
   */
  readonly runtimeRoutes?: true;
}

export interface HostVeth {
  readonly name: string;
  readonly mtu: number;
  readonly alias: string;
  readonly master: string;
}

export type EndpointObjects =
  /** host driver: the endpoint is the host's own namespace; nothing is created. */
  | { readonly kind: 'shareHost' }
  /** none driver: the namespace gets only its loopback, up. */
  | { readonly kind: 'loopbackOnly'; readonly netns: string }
  /** A veth pair: host side enslaved to the network's bridge, container side configured. */
  | {
      readonly kind: 'veth';
      readonly netns: string;
      readonly hostVeth: HostVeth;
      readonly container: ContainerInterface;
    }
  /**
   * A veth whose container side the runtime moves into place (Handover in model/types.ts): the
   * host side as for 'veth'; `parked` is the container side while it waits in the host namespace
   * (`netns` is the host's path), created there down and without addresses; absent while the
   * runtime has it, when only the host side is tnet's.
   */
  | {
      readonly kind: 'handedVeth';
      readonly hostVeth: HostVeth;
      readonly parked?: { readonly netns: string; readonly name: string; readonly mac: string; readonly mtu: number };
    };

export interface Driver {
  readonly kind: DriverKind;
  /** Whether an endpoint may live in a namespace other than the host's own. */
  readonly allowsSeparateNetns: boolean;
  /** Whether endpoints get addresses from the network's subnets. */
  readonly hasIpam: boolean;
  /**
   * `remote` are the network's endpoints on other live hosts (only multi-host drivers use them or
   * the cluster view).
   */
  network(network: Network, cluster?: ClusterView, remote?: readonly Endpoint[]): NetworkObjects;
  endpoint(network: Network, endpoint: Endpoint): EndpointObjects;
}
