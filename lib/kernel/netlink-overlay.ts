/**
 * What an overlay needs from rtnetlink beyond links and addresses: VXLAN devices, the device's
 * own FDB (which remote VTEP a MAC lives behind) and permanent neighbour entries (the ARP
 * answers a proxying VXLAN device gives for remote endpoints).
 */
import type { ifla, rt } from 'netlink';
import type { IpFamily } from '../model/types.js';
import { afOf, AF_INET, AF_INET6, bytesToIp, bytesToMac, ipToBytes, macToBytes } from './inet.js';
import { REQUEST_TIMEOUT_MS, attempt, change, nested, type NetlinkModule, type Rtnl } from './rtnl.js';
import type { FdbEntry, NeighbourEntry, NetlinkSession, VxlanState } from './types.js';

type OverlayOps = Pick<NetlinkSession, 'listFdb' | 'addFdb' | 'deleteFdb' | 'listNeighbours' | 'addNeighbour' | 'deleteNeighbour'>;

const AF_BRIDGE = 7;
const ZERO_MAC = '00:00:00:00:00:00';

/** The IFLA_INFO_DATA of a VXLAN link as tnet compares it (see plan-overlay.ts). */
export const vxlanStateOf = (nl: NetlinkModule, linkinfo: Buffer | undefined): VxlanState | undefined => {
  if (!linkinfo) return undefined;
  const info = nl.ifla.parseInfo(linkinfo);
  if (info.kind !== 'vxlan' || !info.data) return undefined;
  const v = nl.ifla.parseVxlan(info.data);
  return {
    vni: v.id ?? 0,
    ...(v.local && v.local.length === 4 ? { local: bytesToIp(v.local) } : {}),
    // IFLA_VXLAN_PORT is in network byte order, unlike every other integer attribute.
    port: v.port ? v.port.readUInt16BE(0) : 0,
    learning: (v.learning ?? 0) !== 0,
    proxy: (v.proxy ?? 0) !== 0,
  };
};

/** The linkinfo attribute for creating a VXLAN device. */
export const vxlanLinkinfo = (nl: NetlinkModule, o: { vni: number; local: string; port: number; proxy: boolean }): Buffer => {
  const port = Buffer.alloc(2);
  port.writeUInt16BE(o.port);
  const data: ifla.Vxlan = { id: o.vni, local: ipToBytes(4, o.local), port, learning: 0, proxy: o.proxy ? 1 : 0 };
  return nested(nl, nl.ifla.formatInfo({ kind: 'vxlan', data: nested(nl, nl.ifla.formatVxlan(data)) }));
};

const familyOf = (af: number | undefined): IpFamily | undefined => (af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined);

export const overlayOps = (r: Rtnl): OverlayOps => {
  const { nl, socket } = r;
  const opts = { timeout: REQUEST_TIMEOUT_MS };
  const { CREATE, APPEND, REPLACE } = nl.FlagsNew;

  const fdbMsg = (linkIndex: number, mac: string, dst: string) => ({
    data: { family: AF_BRIDGE, ifindex: linkIndex, state: { permanent: true }, flags: { self: true } } satisfies rt.Neighbor,
    attrs: { lladdr: macToBytes(mac), dst: ipToBytes(4, dst) } satisfies rt.NeighborAttrs,
    target: `${mac} dst ${dst} on link #${linkIndex}`,
  });

  return {
    async listFdb(linkIndex) {
      const msgs = await attempt(r, 'list fdb', linkIndex === undefined ? 'all' : `link #${linkIndex}`, () =>
        socket.getNeighbors({ family: AF_BRIDGE }, undefined, opts),
      );
      return (msgs ?? [])
        .filter((m) => m.data.family === AF_BRIDGE && (linkIndex === undefined || m.data.ifindex === linkIndex) && m.attrs.lladdr)
        .map((m): FdbEntry => ({
          linkIndex: m.data.ifindex ?? 0,
          mac: bytesToMac(m.attrs.lladdr ?? Buffer.alloc(6)),
          ...(m.attrs.dst && (m.attrs.dst.length === 4 || m.attrs.dst.length === 16) ? { dst: bytesToIp(m.attrs.dst) } : {}),
          permanent: m.data.state?.permanent === true,
          self: m.data.flags?.self === true,
        }));
    },

    async addFdb(linkIndex, mac, dst) {
      const { data, attrs, target } = fdbMsg(linkIndex, mac, dst);
      // The all-zero MAC is the flood list: one entry per remote VTEP, so further ones are appended.
      // A unicast MAC lives behind one VTEP: a moved endpoint replaces its entry.
      const flags = CREATE | (mac === ZERO_MAC ? APPEND : REPLACE);
      await change(r, 'add fdb entry', target, () => socket.newNeighbor(data, attrs, { ...opts, flags }), ['EEXIST']);
    },

    async deleteFdb(linkIndex, mac, dst) {
      const { data, attrs, target } = fdbMsg(linkIndex, mac, dst);
      await change(r, 'delete fdb entry', target, () => socket.delNeighbor(data, attrs, opts), ['ENOENT', 'ENODEV']);
    },

    async listNeighbours(family) {
      const msgs = await attempt(r, 'list neighbours', `IPv${family}`, () => socket.getNeighbors({ family: afOf(family) }, undefined, opts));
      return (msgs ?? []).flatMap((m): NeighbourEntry[] => {
        const f = familyOf(m.data.family);
        if (f === undefined || !m.attrs.dst) return [];
        return [{
          linkIndex: m.data.ifindex ?? 0,
          family: f,
          address: bytesToIp(m.attrs.dst),
          ...(m.attrs.lladdr && m.attrs.lladdr.length === 6 ? { mac: bytesToMac(m.attrs.lladdr) } : {}),
          permanent: m.data.state?.permanent === true,
        }];
      });
    },

    async addNeighbour(linkIndex, family, address, mac) {
      const data: rt.Neighbor = { family: afOf(family), ifindex: linkIndex, state: { permanent: true } };
      const attrs: rt.NeighborAttrs = { dst: ipToBytes(family, address), lladdr: macToBytes(mac) };
      await change(r, 'add neighbour', `${address} lladdr ${mac} on link #${linkIndex}`, () =>
        socket.newNeighbor(data, attrs, { ...opts, flags: CREATE | REPLACE }),
      );
    },

    async deleteNeighbour(linkIndex, family, address) {
      const data: rt.Neighbor = { family: afOf(family), ifindex: linkIndex };
      await change(r, 'delete neighbour', `${address} on link #${linkIndex}`, () =>
        socket.delNeighbor(data, { dst: ipToBytes(family, address) }, opts), ['ENOENT', 'ENODEV']);
    },
  };
};
