/** Links over rtnetlink: list, create (bridge, veth with the peer born in its netns), change, delete. */
import type { ifla, rt } from 'netlink';
import { TnetError } from '../errors.js';
import { TNET_LINK_GROUP } from '../model/names.js';
import { bytesToMac, macToBytes } from './inet.js';
import { vxlanLinkinfo, vxlanStateOf } from './netlink-overlay.js';
import { REQUEST_TIMEOUT_MS, attempt, change, createExcl, nested, type Rtnl } from './rtnl.js';
import type { LinkChange, LinkState, NetlinkSession } from './types.js';

type CreateOpts = { mtu: number; alias?: string; masterIndex?: number; noIpv6LinkLocal?: boolean; up?: boolean; hairpin?: boolean };
type LinkOps = Pick<NetlinkSession, 'listLinks' | 'getLink' | 'createBridge' | 'createVethPair' | 'createVxlan' | 'setLink' | 'deleteLink'>;

/** Hairpin mode of a bridge port, from its port options; undefined for a link on no bridge. */
const hairpinOf = (nl: Rtnl['nl'], info: ifla.Info | undefined): boolean | undefined =>
  info?.slaveKind === 'bridge' && info.slaveData !== undefined ? nl.ifla.parseBridgePort(info.slaveData).mode === nl.ifla.BridgePortMode.HAIRPIN : undefined;

const toLinkState = ({ nl }: Rtnl, m: rt.LinkMessage): LinkState => {
  const { data, attrs } = m;
  const info = attrs.linkinfo ? nl.ifla.parseInfo(attrs.linkinfo) : undefined;
  const kind = info?.kind;
  const vxlan = kind === 'vxlan' ? vxlanStateOf(nl, attrs.linkinfo) : undefined;
  const hairpin = hairpinOf(nl, info);
  return {
    index: data.index ?? 0,
    name: attrs.ifname ?? '',
    ...(kind ? { kind } : {}),
    mtu: attrs.mtu ?? 0,
    up: data.flags?.up === true,
    mac: attrs.address ? bytesToMac(attrs.address) : '',
    ...(attrs.master ? { masterIndex: attrs.master } : {}),
    ...(attrs.ifalias ? { alias: attrs.ifalias } : {}),
    ...(attrs.group ? { group: attrs.group } : {}),
    ...(hairpin === undefined ? {} : { hairpin }),
    ...(vxlan ? { vxlan } : {}),
  };
};

const linkTarget = (index: number): string => `link #${index}`;

const AF_INET6 = 10;

/**
 * IFLA_AF_SPEC { AF_INET6: { IFLA_INET6_ADDR_GEN_MODE: none } }: a bridge port needs no IPv6
 * link-local address, and hundreds of them only make every address dump and ND slower.
 */
const noLinkLocal = (nl: Rtnl['nl']): Map<number, Buffer> =>
  new Map([[AF_INET6, nested(nl, nl.ifla.formatLinkProtocolInfoInet6({ addrGenMode: nl.ifla.In6AddrGenMode.NONE }))]]);

export const linkOps = (r: Rtnl): LinkOps => {
  const { nl, socket } = r;
  const opts = { timeout: REQUEST_TIMEOUT_MS };

  /**
   * Creates a link in one request. ECHO makes the kernel send the new link back in the same
   * round trip; the follow-up getLink only runs if an older kernel ignores ECHO. The echo is sent
   * before the kernel applies IFLA_MASTER, hence the merge below.
   */
  const createRaw = async (op: string, name: string, attrs: ifla.LinkAttrs): Promise<LinkState> => {
    const flags = createExcl(nl) | nl.Flags.ECHO;
    const echoed = await change(r, op, name, () => socket.newLink({}, { ifname: name, ...attrs }, { ...opts, flags }));
    const mine = echoed?.find((m) => m.attrs.ifname === name);
    if (mine) return { ...toLinkState(r, mine), ...(attrs.master ? { masterIndex: attrs.master } : {}) };
    const [got] = (await attempt(r, op, name, () => socket.getLink({}, { ifname: name }, opts))) ?? [];
    if (!got) throw new TnetError('kernel', `${op} "${name}": created but not found afterwards`, { op, target: name });
    return toLinkState(r, got);
  };

  /**
   * One RTM_NEWLINK changing an existing link: flags, attributes and, for a bridge port, its port
   * options, which travel as slave data of IFLA_LINKINFO and which only RTM_NEWLINK reads.
   */
  const update = (op: string, index: number, u: LinkChange): Promise<unknown> => {
    const data: rt.Link = { index };
    if (u.up !== undefined) Object.assign(data, { flags: u.up ? { up: true } : {}, change: { up: true } });
    const portOptions = u.hairpin === undefined ? {} : {
      linkinfo: nested(nl, nl.ifla.formatInfo({ slaveKind: 'bridge', slaveData: nested(nl, nl.ifla.formatBridgePort({ mode: u.hairpin ? nl.ifla.BridgePortMode.HAIRPIN : nl.ifla.BridgePortMode.UNSPEC })) })),
    };
    const attrs: ifla.LinkAttrs = {
      ...(u.mtu !== undefined ? { mtu: u.mtu } : {}),
      // IFLA_MASTER 0 releases the link from its master.
      ...(u.masterIndex !== undefined ? { master: u.masterIndex ?? 0 } : {}),
      ...(u.mac !== undefined ? { address: macToBytes(u.mac) } : {}),
      ...(u.alias !== undefined ? { ifalias: u.alias } : {}),
      ...(u.noIpv6LinkLocal === true ? { afSpec: noLinkLocal(nl) } : {}),
      ...portOptions,
    };
    return change(r, op, linkTarget(index), () => socket.newLink(data, attrs, opts));
  };

  /**
   * The kernel ignores IFLA_IFALIAS and refuses IFLA_AF_SPEC on create, so the owner tag (and
   * what else a new link needs: up, hairpin) goes in a second request. The link is born with
   * TNET_LINK_GROUP (IFLA_GROUP is honoured on create) and down, so a process killed between the
   * two requests leaves a link the planner still knows for ours and finishes. A failure of the
   * second request (not a kill) deletes the link again.
   */
  const create = async (op: string, name: string, o: CreateOpts, attrs: ifla.LinkAttrs): Promise<LinkState> => {
    const link = await createRaw(op, name, {
      ...attrs,
      mtu: o.mtu,
      group: TNET_LINK_GROUP,
      ...(o.masterIndex !== undefined ? { master: o.masterIndex } : {}),
    });
    const finish: LinkChange = {
      ...(o.alias === undefined ? {} : { alias: o.alias }),
      ...(o.noIpv6LinkLocal === true ? { noIpv6LinkLocal: true } : {}),
      ...(o.up === true ? { up: true } : {}),
      ...(o.hairpin === true ? { hairpin: true } : {}),
    };
    if (Object.keys(finish).length === 0) return link;
    try {
      await update(op, link.index, finish);
    } catch (e) {
      // Best effort: the caller gets the settings error, which is the one that explains the failure.
      await change(r, 'delete link', name, () => socket.delLink({ index: link.index }, {}, opts)).catch(() => undefined);
      throw e;
    }
    return { ...link, ...(o.alias === undefined ? {} : { alias: o.alias }), ...(o.up === true ? { up: true } : {}), ...(o.hairpin === true ? { hairpin: true } : {}) };
  };

  return {
    async listLinks() {
      const msgs = await attempt(r, 'list links', 'all', () => socket.getLinks(undefined, undefined, opts));
      return (msgs ?? []).map((m) => toLinkState(r, m));
    },

    async getLink(name) {
      const msgs = await attempt(r, 'get link', name, () => socket.getLink({}, { ifname: name }, opts), ['ENODEV']);
      const [m] = msgs ?? [];
      return m ? toLinkState(r, m) : undefined;
    },

    createBridge(name, o) {
      return create('create bridge', name, o, {
        linkinfo: nested(nl, nl.ifla.formatInfo({ kind: 'bridge' })),
        ...(o.mac === undefined ? {} : { address: macToBytes(o.mac) }),
      });
    },

    createVethPair(name, o, peer) {
      // The peer is a nested ifinfomsg + attrs; IFLA_NET_NS_FD puts it straight into its netns,
      // so it never exists under a temporary name or in the wrong namespace.
      const peerAttrs: ifla.LinkAttrs = {
        ifname: peer.name,
        mtu: peer.mtu,
        netNsFd: peer.netns.fd,
        ...(peer.mac !== undefined ? { address: macToBytes(peer.mac) } : {}),
      };
      const peerMsg = Buffer.concat([nl.rt.formatLink({}), nested(nl, nl.ifla.formatLinkAttrs(peerAttrs))]);
      const vethData = nested(nl, nl.ifla.formatVethInfo({ peer: peerMsg }));
      const linkinfo = nested(nl, nl.ifla.formatInfo({ kind: 'veth', data: vethData }));
      return create('create veth', name, o, { linkinfo });
    },

    createVxlan(name, o) {
      return create('create vxlan', name, o, { linkinfo: vxlanLinkinfo(nl, o) });
    },

    async setLink(index, u: LinkChange) {
      // Port options need a port: a link being put on a bridge gets them in a second request.
      if (u.hairpin !== undefined && u.masterIndex !== undefined) {
        const { hairpin, ...rest } = u;
        await update('set link', index, rest);
        await update('set hairpin on', index, { hairpin });
      } else await update('set link', index, u);
    },

    async deleteLink(index) {
      await change(r, 'delete link', linkTarget(index), () => socket.delLink({ index }, {}, opts), ['ENODEV']);
    },
  };
};
