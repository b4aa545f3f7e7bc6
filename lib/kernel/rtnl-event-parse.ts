/**
 * rtnetlink notifications -> RtnlEvent. Pure over the bytes (netlink@0.3's own parsers for
 * links, addresses, routes and neighbours; netconf, which it does not know, by hand). A message
 * that cannot be parsed is dropped rather than thrown: a malformed or unexpected notification
 * must never stop the daemon, and the periodic full pass covers anything an event would have said.
 */
import type { IpFamily } from '../model/types.js';
import type { EventOp, RtnlEvent } from './event-types.js';
import { AF_INET, AF_INET6, bytesToIp, bytesToMac } from './inet.js';
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

/** struct netconfmsg (one byte of family, padded to 4) then attributes. */
const parseNetconf = (data: Buffer): RtnlEvent | undefined => {
  const family = familyOf(data[0]);
  if (family === undefined) return undefined;
  let index: number | undefined;
  let forwarding: boolean | undefined;
  for (let off = 4; off + 4 <= data.length; ) {
    const len = data.readUInt16LE(off);
    const type = data.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || off + len > data.length) break;
    if (type === NETCONFA_IFINDEX && len >= 8) index = data.readInt32LE(off + 4);
    if (type === NETCONFA_FORWARDING && len >= 8) forwarding = data.readUInt32LE(off + 4) !== 0;
    off += (len + 3) & ~3;
  }
  if (index === undefined) return undefined;
  return { kind: 'netconf', family, index, ...(forwarding === undefined ? {} : { forwarding }) };
};

const parseKnown = (nl: NetlinkModule, type: number, data: Buffer): RtnlEvent | undefined => {
  const m = nl.rt.parseMessage(type, data);
  switch (m.kind) {
    case 'link': {
      const { data: d, attrs } = m;
      // AF_BRIDGE link messages are about a bridge port's settings (a DELLINK when the port
      // leaves its bridge, the device staying); the AF_UNSPEC ones say what the device is.
      if (d.family === AF_BRIDGE) return undefined;
      return {
        kind: 'link', op: opOf(type, RTM_DELLINK), index: d.index ?? 0, name: attrs.ifname ?? '', up: d.flags?.up === true, mtu: attrs.mtu ?? 0,
        mac: attrs.address ? bytesToMac(attrs.address) : '',
        ...(attrs.master ? { masterIndex: attrs.master } : {}),
        ...(attrs.ifalias ? { alias: attrs.ifalias } : {}),
      };
    }
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

const KNOWN = new Set([RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWNEIGH, RTM_DELNEIGH]);

/** One notification; undefined for types tnet does not follow or bytes it cannot read. */
export const parseRtnlEvent = (nl: NetlinkModule, type: number, data: Buffer): RtnlEvent | undefined => {
  try {
    if (type === RTM_NEWNETCONF) return parseNetconf(data);
    return KNOWN.has(type) ? parseKnown(nl, type, data) : undefined;
  } catch {
    return undefined;
  }
};
