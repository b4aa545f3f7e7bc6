/**
 * rtnetlink notifications -> RtnlEvent. Pure over the bytes (netlink@0.3's own parsers for
 * addresses, routes and neighbours; links, the bulk of every burst, and netconf, which it does
 * not know, by hand). A message
 * that cannot be parsed is dropped rather than thrown: a malformed or unexpected notification
 * must never stop the daemon, and the periodic full pass covers anything an event would have said.
 */
import type { IpFamily } from '../model/types.js';
import type { EventOp, RtnlEvent } from './event-types.js';
import { AF_INET, AF_INET6, bytesToIp, bytesToMac } from './inet.js';
import { attributeMap, cString } from './nlattr.js';
import type { NetlinkModule } from './rtnl.js';

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_NEWNEIGH = 28;
const RTM_DELNEIGH = 29;
const RTM_NEWNETCONF = 80;
const AF_BRIDGE = 7;
const NETCONFA_IFINDEX = 1;
const NETCONFA_FORWARDING = 2;
const RT_TABLE_MAIN = 254;

const familyOf = (af: number | undefined): IpFamily | undefined => (af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined);
const opOf = (type: number, del: number): EventOp => (type === del ? 'del' : 'new');

const IFINFOMSG_LEN = 16;
const IFF_UP = 1;
const IFLA = { address: 1, ifname: 3, mtu: 4, master: 10, ifalias: 20 } as const;
/**
 * struct ifinfomsg then attributes, read by hand: a bridge deleted with 500 ports sends ~1 000
 * link messages of ~2 KB, and the package's parser decodes every attribute (statistics…) of each.
 * AF_BRIDGE link messages are about a bridge port's settings (a DELLINK when the port leaves its
 * bridge, the device staying); the AF_UNSPEC ones say what the device is.
 */
const parseLink = (type: number, data: Buffer): RtnlEvent | undefined => {
  if (data.length < IFINFOMSG_LEN || data[0] === AF_BRIDGE) return undefined;
  const attrs = attributeMap(data, IFINFOMSG_LEN);
  const mtu = attrs.get(IFLA.mtu);
  const master = attrs.get(IFLA.master);
  const mac = attrs.get(IFLA.address);
  const alias = cString(attrs.get(IFLA.ifalias));
  const masterIndex = master !== undefined && master.length >= 4 ? master.readUInt32LE(0) : 0;
  return {
    kind: 'link', op: opOf(type, RTM_DELLINK), index: data.readInt32LE(4), name: cString(attrs.get(IFLA.ifname)) ?? '',
    up: (data.readUInt32LE(8) & IFF_UP) !== 0, mtu: mtu !== undefined && mtu.length >= 4 ? mtu.readUInt32LE(0) : 0,
    mac: mac === undefined ? '' : bytesToMac(mac),
    ...(masterIndex !== 0 ? { masterIndex } : {}),
    ...(alias !== undefined && alias !== '' ? { alias } : {}),
  };
};

/** struct netconfmsg (one byte of family, padded to 4) then attributes. */
const parseNetconf = (data: Buffer): RtnlEvent | undefined => {
  const family = familyOf(data[0]);
  if (family === undefined) return undefined;
  const attrs = attributeMap(data, 4);
  const index = attrs.get(NETCONFA_IFINDEX);
  const forwarding = attrs.get(NETCONFA_FORWARDING);
  if (index === undefined || index.length < 4) return undefined;
  return { kind: 'netconf', family, index: index.readInt32LE(0), ...(forwarding === undefined || forwarding.length < 4 ? {} : { forwarding: forwarding.readUInt32LE(0) !== 0 }) };
};

const parseKnown = (nl: NetlinkModule, type: number, data: Buffer): RtnlEvent | undefined => {
  const m = nl.rt.parseMessage(type, data);
  switch (m.kind) {
    case 'address': {
      const family = familyOf(m.data.family);
      const bytes = m.attrs.local ?? m.attrs.address;
      if (family === undefined || bytes === undefined) return undefined;
      return { kind: 'address', op: opOf(type, RTM_DELADDR), index: m.data.index ?? 0, family, address: bytesToIp(bytes), prefixLength: m.data.prefixlen ?? 0 };
    }
    case 'route': {
      const family = familyOf(m.data.family);
      // Other tables (local, broadcast, policy routing) are the kernel's and other tools' business.
      if (family === undefined || (m.attrs.table ?? m.data.table) !== RT_TABLE_MAIN) return undefined;
      const dst = m.attrs.dst === undefined ? (family === 4 ? '0.0.0.0' : '::') : bytesToIp(m.attrs.dst);
      return { kind: 'route', op: opOf(type, RTM_DELROUTE), family, destination: `${dst}/${m.data.dstLen ?? 0}`, ...(m.attrs.oif ? { outIndex: m.attrs.oif } : {}) };
    }
    case 'neighbor':
      return {
        kind: 'neighbour', op: opOf(type, RTM_DELNEIGH), index: m.data.ifindex ?? 0, bridge: m.data.family === AF_BRIDGE,
        permanent: m.data.state?.permanent === true, self: m.data.flags?.self === true,
      };
    default:
      return undefined;
  }
};

const KNOWN = new Set([RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWNEIGH, RTM_DELNEIGH]);

/** One notification; undefined for types tnet does not follow or bytes it cannot read. */
export const parseRtnlEvent = (nl: NetlinkModule, type: number, data: Buffer): RtnlEvent | undefined => {
  try {
    if (type === RTM_NEWNETCONF) return parseNetconf(data);
    if (type === RTM_NEWLINK || type === RTM_DELLINK) return parseLink(type, data);
    return KNOWN.has(type) ? parseKnown(nl, type, data) : undefined;
  } catch {
    return undefined;
  }
};
