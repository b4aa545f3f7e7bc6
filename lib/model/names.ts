/**
 * Deterministic names of everything tnet creates, derived from network and endpoint ids so that a
 * plan is reproducible and a crash is recovered from by re-running. Kernel interface names are at
 * most 15 characters (IFNAMSIZ - 1); our prefixes (tnbr-, tnv) and the owner alias make our
 * objects recognisable so nothing else on the host is touched.
 */
import { createHash } from 'node:crypto';
import { inputError } from './fields.js';
import type { NetworkOptions } from './types.js';

export const IFNAME_MAX = 15;
export const NETWORK_NAME_MAX = 64;
const ID_PREFIX = 12;

export const bridgeNameFor = (network: { readonly id: string; readonly options: NetworkOptions }): string =>
  network.options.bridgeName ?? `tnbr-${network.id.slice(0, 10)}`;

/** The overlay's VXLAN device: same id prefix as the bridge, so the pair is easy to spot. */
export const vxlanNameFor = (network: { readonly id: string }): string => `tnvx-${network.id.slice(0, 10)}`;

export const hostVethNameFor = (endpointId: string): string => `tnv${endpointId.slice(0, ID_PREFIX)}`;

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

// NUL separates the parts: it cannot occur in a path or an interface name, so the id is unambiguous.
export const endpointIdFor = (networkId: string, netnsPath: string, ifname: string): string =>
  sha256(`${networkId}\0${netnsPath}\0${ifname}`);

/**
 * A locally administered unicast MAC (first octet 02) from a hash of the endpoint id: stable
 * across re-creation, so neighbours' ARP caches stay valid when an endpoint is rebuilt.
 */
export const macFor = (endpointId: string): string => {
  const h = sha256(`mac\0${endpointId}`);
  return ['02', ...[0, 2, 4, 6, 8].map((i) => h.slice(i, i + 2))].join(':');
};

/**
 * A bridge's own MAC, fixed: a Linux bridge left alone takes the lowest MAC of its ports, so a
 * container joining or leaving could change the gateway's MAC under every other container, whose
 * ARP entry then points at an address the bridge no longer answers to (until it goes stale, up to
 * a minute: their traffic to the gateway, DNS included, is dropped meanwhile). An overlay's bridges
 * on different hosts share the gateway address, so each host's gets its own MAC.
 */
export const bridgeMacFor = (networkId: string, host = ''): string => macFor(`bridge\0${networkId}\0${host}`);

/**
 * The IFLA_GROUP every link tnet creates is born in ("tnet" in ASCII). The owner alias needs a
 * second request after the link exists; the group is set in the creating request itself, so a
 * link of ours is recognisable from its first instant, even if tnet is killed before tagging it.
 * `ip link show group 1953391988` lists them.
 */
export const TNET_LINK_GROUP = 0x746e6574;

const OWNER_PREFIX = 'tnet:';

/** The IFLA_IFALIAS we put on our links: who owns it, surviving a lost store. */
export const ownerAlias = (networkId: string, endpointId?: string): string =>
  `${OWNER_PREFIX}${networkId.slice(0, ID_PREFIX)}` + (endpointId === undefined ? '' : `:${endpointId.slice(0, ID_PREFIX)}`);

const OWNER_ALIAS = /^tnet:([0-9a-f]{12})(?::([0-9a-f]{12}))?$/;

/** The id prefixes in an alias made by ownerAlias; undefined for any other alias (not ours). */
export const parseOwnerAlias = (
  alias: string,
): { readonly networkIdPrefix: string; readonly endpointIdPrefix?: string } | undefined => {
  const m = OWNER_ALIAS.exec(alias);
  if (m?.[1] === undefined) return undefined;
  return m[2] === undefined ? { networkIdPrefix: m[1] } : { networkIdPrefix: m[1], endpointIdPrefix: m[2] };
};

/** Checks a Linux interface name as the kernel's dev_valid_name does; returns it unchanged. */
export const validateIfname = (name: string, what: string): string => {
  const bad = (why: string): never => {
    throw inputError(what, `interface name ${JSON.stringify(name)} ${why}`);
  };
  if (name.length === 0 || name.length > IFNAME_MAX) {
    bad(`has ${name.length} characters; Linux allows 1 to ${IFNAME_MAX}`);
  }
  if (name === '.' || name === '..') bad('is not allowed; "." and ".." are reserved');
  // '%' would make the kernel treat the name as a template such as "eth%d".
  if (/[/:%\s]/.test(name)) bad("contains '/', ':', '%' or whitespace, which Linux does not allow");
  return name;
};

const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const validateNetworkName = (name: string, what = 'name'): string => {
  if (name.length > NETWORK_NAME_MAX) {
    throw inputError(what, `network name ${JSON.stringify(name)} has ${name.length} characters; at most ${NETWORK_NAME_MAX} are allowed`);
  }
  if (!NETWORK_NAME.test(name)) {
    throw inputError(
      what,
      `network name ${JSON.stringify(name)} is not allowed; use letters, digits, '_', '.' and '-', starting with a letter or digit`,
    );
  }
  return name;
};

const MAC = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

/** Returns the MAC in canonical form (lower case, ':'-separated); refuses multicast/broadcast and all-zero. */
export const validateMac = (s: string, what = 'mac'): string => {
  if (!MAC.test(s)) throw inputError(what, `${JSON.stringify(s)} is not a MAC address; expected six hex pairs like 02:42:ac:11:00:02`);
  const mac = s.toLowerCase().replaceAll('-', ':');
  if ((parseInt(mac.slice(0, 2), 16) & 1) === 1) {
    throw inputError(what, `${mac} is a multicast or broadcast address; an interface needs a unicast MAC (even first octet)`);
  }
  if (mac === '00:00:00:00:00:00') throw inputError(what, '00:00:00:00:00:00 is not allowed; an interface needs a non-zero MAC');
  return mac;
};
