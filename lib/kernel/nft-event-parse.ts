/**
 * nftables change notifications (NETLINK_NETFILTER, group NFNLGRP_NFTABLES) -> NftEvent and, at
 * each transaction's end, the NEWGEN message naming the process that made it. Pure, by hand:
 * netlink@0.3 has no nfnetlink parser, and we need only a handful of attributes. Unreadable
 * messages are dropped, never thrown (see rtnl-event-parse.ts).
 */
import type { EventOp, NftEvent, NftObject } from './event-types.js';
import { attributes, cString } from './nlattr.js';

const NFNL_SUBSYS_NFTABLES = 10;
/** NFT_MSG_* -> what it is about; the DESTROY* variants (6.3+) notify as DEL. */
const MESSAGES: ReadonlyMap<number, readonly [EventOp, NftObject]> = new Map([
  [0, ['new', 'table']], [2, ['del', 'table']],
  [3, ['new', 'chain']], [5, ['del', 'chain']],
  [6, ['new', 'rule']], [8, ['del', 'rule']],
  [9, ['new', 'set']], [11, ['del', 'set']],
  [12, ['new', 'element']], [14, ['del', 'element']],
  [18, ['new', 'object']], [20, ['del', 'object']],
  [22, ['new', 'flowtable']], [24, ['del', 'flowtable']],
]);
const NFT_MSG_NEWGEN = 15;
/** Attribute 1 of every table, chain, rule, set, element list, object and flowtable message. */
const ATTR_TABLE = 1;
const NFTA_SET_ELEM_LIST_SET = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS = 3;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_USERDATA = 6;
const NFTA_GEN_PROC_PID = 2;
/** nftables' userdata TLV (libnftnl udata): type 0 of an element is its comment. */
const UDATA_COMMENT = 0;
const NFGENMSG_LEN = 4;

const commentOf = (userdata: Buffer): string | undefined => {
  for (let off = 0; off + 2 <= userdata.length; ) {
    const type = userdata[off] ?? 0;
    const len = userdata[off + 1] ?? 0;
    if (off + 2 + len > userdata.length) return undefined;
    if (type === UDATA_COMMENT) return cString(userdata.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return undefined;
};

const elementComments = (elements: Buffer): string[] =>
  attributes(elements)
    .filter((a) => a.type === NFTA_LIST_ELEM)
    .flatMap((elem) => {
      const userdata = attributes(elem.value).find((a) => a.type === NFTA_SET_ELEM_USERDATA);
      const comment = userdata === undefined ? undefined : commentOf(userdata.value);
      return comment === undefined ? [] : [comment];
    });

export type NftMessage = { readonly kind: 'event'; readonly event: NftEvent } | { readonly kind: 'generation'; readonly pid: number };

/** One notification (nlmsg type and payload); undefined when it is not one tnet follows. */
export const parseNftMessage = (type: number, data: Buffer): NftMessage | undefined => {
  if (type >> 8 !== NFNL_SUBSYS_NFTABLES || data.length < NFGENMSG_LEN) return undefined;
  const attrs = attributes(data, NFGENMSG_LEN);
  const get = (t: number): Buffer | undefined => attrs.find((a) => a.type === t)?.value;
  const msg = type & 0xff;
  if (msg === NFT_MSG_NEWGEN) {
    const pid = get(NFTA_GEN_PROC_PID);
    return { kind: 'generation', pid: pid !== undefined && pid.length >= 4 ? pid.readUInt32BE(0) : 0 };
  }
  const what = MESSAGES.get(msg);
  const table = get(ATTR_TABLE);
  if (what === undefined || table === undefined) return undefined;
  const [op, object] = what;
  const set = object === 'element' ? get(NFTA_SET_ELEM_LIST_SET) : undefined;
  const elements = object === 'element' ? get(NFTA_SET_ELEM_LIST_ELEMENTS) : undefined;
  return {
    kind: 'event',
    event: {
      op, object, family: data[0] ?? 0, table: cString(table) ?? '',
      ...(set === undefined ? {} : { set: cString(set) ?? '' }),
      comments: elements === undefined ? [] : elementComments(elements),
    },
  };
};
