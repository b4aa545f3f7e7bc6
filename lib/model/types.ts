/**
 * The typed desired state of tnet: what the user asked for, after validation and after the
 * choices tnet made for them (subnet, gateway, addresses, MAC), as it is recorded in the store.
 * Pure data: no methods, so records round-trip through JSON unchanged.
 */

export const DRIVER_KINDS = ['bridge', 'host', 'none', 'overlay'] as const;
export type DriverKind = (typeof DRIVER_KINDS)[number];

/** Drivers that build their own interfaces and hand out addresses (the rest use the host's or none). */
export const ADDRESSED_DRIVERS = ['bridge', 'overlay'] as const satisfies readonly DriverKind[];
export type AddressedDriver = (typeof ADDRESSED_DRIVERS)[number];
export const isAddressedDriver = (k: DriverKind): k is AddressedDriver => (ADDRESSED_DRIVERS as readonly DriverKind[]).includes(k);

/** VXLAN network identifiers are 24 bits; 0 is left out as "no VNI". */
export const VNI_MIN = 1;
export const VNI_MAX = 16_777_215;

export type IpFamily = 4 | 6;

/** One address family of a network: canonical CIDR strings ("10.1.2.0/24", "fd00:1::/64"). */
export interface SubnetConfig {
  readonly subnet: string;
  /** The bridge's own address, inside the subnet (plain address, no prefix). */
  readonly gateway: string;
  /** Addresses are handed out only from here when set; a CIDR inside `subnet`. */
  readonly ipRange?: string;
}

export interface NetworkOptions {
  /** `-o bridge.name=...`: the Linux bridge's name instead of the derived one. */
  readonly bridgeName?: string;
}

/** A network as the user describes it; unset fields are chosen by tnet at creation. */
export interface NetworkRequest {
  readonly name: string;
  readonly driver: DriverKind;
  readonly ipv4?: { subnet?: string; gateway?: string; ipRange?: string };
  /** Present when IPv6 is enabled (`--ipv6`); subnet chosen by tnet when absent. */
  readonly ipv6?: { subnet?: string; gateway?: string; ipRange?: string };
  readonly internal?: boolean;
  readonly mtu?: number;
  readonly options?: NetworkOptions;
  readonly labels?: Readonly<Record<string, string>>;
  /** overlay driver: the VXLAN network identifier (1-16777215); the lowest free one when absent. */
  readonly vni?: number;
  /** false: no DNS server for the network's containers (`--dns=false`); default true. */
  readonly dnsEnabled?: boolean;
}

/** What an overlay network adds to a network record. */
export interface OverlayConfig {
  readonly vni: number;
}

/**
 * Where a record is in its life, when an operation on it is not finished: `creating` until the
 * kernel side is built (a killed `create`/`connect` leaves it so, and the same command run again
 * finishes it), `removing` from the moment a removal is asked for until the kernel side is gone
 * (the record, and with it the addresses it reserves, outlive every link, address and port forward
 * made for it). Absent: in place.
 */
export type RecordPhase = 'creating' | 'removing';

/** A network as recorded: every choice made. */
export interface Network {
  readonly id: string; // 64 hex chars, fixed at creation; kernel names derive from it
  readonly name: string;
  readonly driver: DriverKind;
  readonly ipv4?: SubnetConfig;
  readonly ipv6?: SubnetConfig;
  readonly internal: boolean;
  readonly mtu: number;
  readonly options: NetworkOptions;
  readonly labels: Readonly<Record<string, string>>;
  readonly created: string; // ISO time
  /** Present exactly for the overlay driver. */
  readonly overlay?: OverlayConfig;
  /** false: tnet's DNS server does not serve this network; absent (records before DNS) or true: it does. */
  readonly dnsEnabled?: boolean;
  readonly phase?: RecordPhase;
}

/** An attachment as the user asks for it (`tnet connect`, an `endpoints:` entry in a spec). */
export interface EndpointRequest {
  readonly network: string;
  /** A netns path, a name under /run/netns, or a PID; resolved to a path before recording. */
  readonly netns: string;
  readonly ifname?: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly mac?: string;
  /** The endpoint's DNS name on the network (model/dns-name.ts); default: the /run/netns name. */
  readonly name?: string;
  readonly aliases?: readonly string[];
  /** Published ports (`-p`, `ports:`), one entry per port (ranges are expanded when parsed). */
  readonly ports?: readonly PortMapping[];
}

export const PORT_PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];

/** One published port: HOST_IP:HOST_PORT -> CONTAINER_PORT, as Docker's `-p` describes it. */
export interface PortMapping {
  readonly protocol: PortProtocol;
  /** Canonical address; absent = every address of the host; 0.0.0.0 / :: = every address of that family. */
  readonly hostIp?: string;
  readonly hostPort: number;
  readonly containerPort: number;
}

/** An attachment as recorded. */
export interface Endpoint {
  readonly id: string; // 64 hex chars, derived from network id + netns path + ifname
  readonly network: string; // network name
  readonly netns: string; // absolute path (/run/netns/NAME or /proc/PID/ns/net)
  readonly ifname: string; // name inside the container namespace
  readonly ipv4?: string; // plain address
  readonly ipv6?: string;
  readonly mac: string; // lower-case aa:bb:cc:dd:ee:ff
  /** Its DNS name on the network (unique there); absent: it answers to its aliases only. */
  readonly name?: string;
  /** More DNS names on the network; several endpoints may share one (it resolves to them all). */
  readonly aliases: readonly string[];
  /**
   * Metric of the endpoint's default routes: the first network a namespace joins gets the lowest,
   * so its gateway stays the default (as with Docker) and a later one takes over if it leaves.
   */
  readonly routeMetric: number;
  /** Who attached it: the CLI/apply, or a CNI runtime (container id) — CNI GC only frees its own. */
  readonly owner: EndpointOwner;
  /** Published ports; absent in records written before port publishing existed. */
  readonly ports?: readonly PortMapping[];
  /**
   * The host the endpoint lives on, when this host has joined a cluster (`tnet host join`). Each
   * host realises only its own endpoints; an overlay programs the others' as remote entries.
   */
  readonly host?: string;
  readonly phase?: RecordPhase;
  /**
   * Mappings just unpublished whose forwards may still be in the kernel: kept until a pass has
   * deleted them, so no forward ever outlives its record.
   */
  readonly releasing?: readonly PortMapping[];
  /** Present when a runtime moves the container side into place itself (Docker). */
  readonly handover?: Handover;
}

/**
 * An endpoint whose runtime moves the container side into place itself: Docker's Join names an
 * interface in the host namespace, and Docker moves it into the container, renames it (eth0, …)
 * and gives it its addresses and default route. tnet builds the veth, keeps the host side, and
 * repairs the container side only once it is where the runtime put it.
 *  - parked: the container side waits in the host namespace as `parkedName` (`netns` is the
 *    host's, `ifname` the parked name); tnet creates it there, down and without addresses.
 *  - joining: Join has named it; the runtime moves it into `netns` and configures it. tnet
 *    touches the host side only, so nothing it does can race the runtime's own steps.
 *  - placed: it is `ifname` in `netns`, up and configured (seen so after Join); tnet repairs it
 *    like any container interface, with the default route only on the runtime's gateway endpoint.
 *  - leaving: Leave has been answered; the runtime takes it back to the host namespace (and then
 *    deletes the endpoint). Host side only again, and never placed again.
 */
export interface Handover {
  readonly state: 'parked' | 'joining' | 'placed' | 'leaving';
  /** The container side's name while in the host namespace (Docker's Join SrcName). */
  readonly parkedName: string;
  /** The runtime routes the namespace's default through this endpoint (Docker's gateway endpoint). */
  readonly gateway?: boolean;
  /**
   * The ports the runtime asked for at Join, published while this is the gateway endpoint: Docker
   * sends them again when it makes it so, but does not send that call again when it died with us.
   */
  readonly portmap?: readonly PortBinding[];
}

/** A port the runtime asks to publish (Docker's `-p`, `-P`), before tnet chooses its host port. */
export interface PortBinding {
  readonly protocol: PortProtocol;
  readonly containerPort: number;
  /** Absent: every address of the host (Docker's ""). */
  readonly hostIp?: string;
  /** First and last acceptable host port; 0..0 means any. */
  readonly hostPort: number;
  readonly hostPortEnd: number;
}

export type EndpointOwner =
  | { readonly kind: 'cli' }
  | { readonly kind: 'cni'; readonly containerId: string }
  /** A Docker endpoint (libnetwork's remote driver): its endpoint id and its Docker network's id. */
  | { readonly kind: 'docker'; readonly endpointId: string; readonly networkId: string };

export const DEFAULT_MTU = 1500;
export const DEFAULT_IFNAME = 'eth0';
