/**
 * The nftables ruleset generation of one namespace (NFT_MSG_GETGEN): the kernel bumps it on every
 * committed transaction, whoever makes it, so a listing taken at a generation still holds while the
 * generation has not moved. One request on a netlink socket costs microseconds; a listing through
 * libnftables dumps the whole ruleset.
 */
import { blockingSocketFd, closeFd, receiveNow, sendFd } from './libc.js';
import { withNetns } from './netns.js';
import type { NetnsHandle } from './types.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NETLINK_NETFILTER = 12;
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_NEWGEN = 15;
const NFT_MSG_GETGEN = 16;
const NLM_F_REQUEST = 1;
const NLMSG_HDRLEN = 16;
const NFGENMSG_LEN = 4;
const NFTA_GEN_ID = 1;

export interface GenerationReader {
  /** The current generation, or undefined when the kernel's answer cannot be read (nothing is cached then). */
  read(): number | undefined;
  close(): void;
}

const request = (seq: number): Buffer => {
  const m = Buffer.alloc(NLMSG_HDRLEN + NFGENMSG_LEN);
  m.writeUInt32LE(m.length, 0);
  m.writeUInt16LE((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, 4);
  m.writeUInt16LE(NLM_F_REQUEST, 6);
  m.writeUInt32LE(seq, 8);
  return m; // nfgenmsg: AF_UNSPEC, NFNETLINK_V0, res_id 0
};

/** NFTA_GEN_ID of a NEWGEN answer to seq, or undefined for anything else (an error, another answer). */
export const generationOf = (answer: Buffer, seq: number): number | undefined => {
  if (answer.length < NLMSG_HDRLEN + NFGENMSG_LEN) return undefined;
  if (answer.readUInt16LE(4) !== ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN) || answer.readUInt32LE(8) !== seq) return undefined;
  const end = Math.min(answer.readUInt32LE(0), answer.length);
  for (let at = NLMSG_HDRLEN + NFGENMSG_LEN; at + 4 <= end; ) {
    const len = answer.readUInt16LE(at);
    if (len < 4) return undefined;
    if ((answer.readUInt16LE(at + 2) & 0x3fff) === NFTA_GEN_ID && len >= 8) return answer.readUInt32BE(at + 4);
    at += (len + 3) & ~3;
  }
  return undefined;
};

export const openGenerationReader = (netns: NetnsHandle): GenerationReader => {
  const target = `nftables generation in "${netns.path}"`;
  // A netlink socket answers for the namespace it was created in.
  const fd = withNetns(netns.fd, () => blockingSocketFd(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER, target));
  const buffer = Buffer.alloc(256);
  let seq = 0;
  let open = true;
  return {
    read: () => {
      if (!open) return undefined;
      seq = (seq + 1) >>> 0;
      try {
        sendFd(fd, request(seq), target);
        // nfnetlink answers inside send(), so the answer is queued by now; an older one left over
        // from a failed read is skipped by its sequence number.
        for (let answer = receiveNow(fd, buffer, target); answer !== undefined; answer = receiveNow(fd, buffer, target)) {
          const generation = generationOf(answer, seq);
          if (generation !== undefined) return generation;
        }
      } catch {
        // Unreadable: the caller lists again, as it would without a generation.
      }
      return undefined;
    },
    close: () => {
      if (open) closeFd(fd);
      open = false;
    },
  };
};
