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

export interface NetworkObjects {
  readonly bridge?: DesiredBridge;
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
      readonly hostVeth: { readonly name: string; readonly mtu: number; readonly alias: string; readonly master: string };
      readonly container: ContainerInterface;
    };

export interface Driver {
  readonly kind: DriverKind;
  /** Whether an endpoint may live in a namespace other than the host's own. */
  readonly allowsSeparateNetns: boolean;
  /** Whether endpoints get addresses from the network's subnets. */
  readonly hasIpam: boolean;
  network(network: Network): NetworkObjects;
  endpoint(network: Network, endpoint: Endpoint): EndpointObjects;
}
