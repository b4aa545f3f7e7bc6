/**
 * DNS messages on the wire, through dns-packet (the wire format library most of npm's DNS code
 * uses: every record type of RFC 1035/3596/6891, unknown types kept as opaque data, no
 * dependencies of note). This module decides what is a query worth answering and how big an
 * answer may be; it never throws on input: anything malformed becomes a FORMERR (when the header
 * can be read, so the asker learns at once) or nothing. Pure.
 */
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';

export const RCODE = { noError: 0, formErr: 1, servFail: 2, nxDomain: 3, notImp: 4, refused: 5 } as const;
export type Rcode = (typeof RCODE)[keyof typeof RCODE];

const QR = 1 << 15;
const OPCODE_MASK = 0xf << 11;
const AA = 1 << 10;
const TC = 1 << 9;
const RD = 1 << 8;
const RA = 1 << 7;
const CD = 1 << 4;
const HEADER_BYTES = 12;

/** Far above any real query (one question, an OPT record); bigger ones are not parsed. */
export const MAX_QUERY_BYTES = 4096;
/** Without EDNS, RFC 1035's limit; with it, what the asker offers, up to DNS flag day 2020's 1232. */
const PLAIN_UDP_BYTES = 512;
export const MAX_UDP_RESPONSE_BYTES = 1232;
export const MAX_TCP_MESSAGE_BYTES = 65535;

export type Transport = 'udp' | 'tcp';

export interface Query {
  readonly id: number;
  readonly rd: boolean;
  readonly cd: boolean;
  readonly question: Question;
  /** The EDNS OPT record's payload size and DO bit, when the query has one. */
  readonly edns?: { readonly udpSize: number; readonly dnssecOk: boolean };
  /** The query as received, for forwarding unchanged but for its id. */
  readonly raw: Buffer;
}

export type Parsed =
  | { readonly kind: 'query'; readonly query: Query }
  /** An error reply made from the header alone (FORMERR, NOTIMP, REFUSED). */
  | { readonly kind: 'reply'; readonly response: Buffer }
  /** Not worth a reply: too short to carry an id, or itself a response (never answer those: loops). */
  | { readonly kind: 'drop'; readonly why: string };

/** A reply of just a header: the query's id, opcode and RD, an rcode, no sections. */
export const headerReply = (raw: Buffer, rcode: Rcode): Buffer => {
  const out = Buffer.alloc(HEADER_BYTES);
  out.writeUInt16BE(raw.readUInt16BE(0), 0);
  out.writeUInt16BE(QR | (raw.readUInt16BE(2) & (OPCODE_MASK | RD)) | rcode, 2);
  return out;
};

export const parseQuery = (raw: Buffer): Parsed => {
  if (raw.length < HEADER_BYTES) return { kind: 'drop', why: `${raw.length} bytes, shorter than a header` };
  const flags = raw.readUInt16BE(2);
  if ((flags & QR) !== 0) return { kind: 'drop', why: 'a response, not a query' };
  if ((flags & OPCODE_MASK) !== 0) return { kind: 'reply', response: headerReply(raw, RCODE.notImp) };
  if (raw.length > MAX_QUERY_BYTES || raw.readUInt16BE(4) !== 1) return { kind: 'reply', response: headerReply(raw, RCODE.formErr) };
  let decoded: DecodedPacket;
  try {
    decoded = dnsPacket.decode(raw);
  } catch {
    return { kind: 'reply', response: headerReply(raw, RCODE.formErr) };
  }
  const question = decoded.questions?.[0];
  if (question === undefined || question.name.length > 253) return { kind: 'reply', response: headerReply(raw, RCODE.formErr) };
  if (question.class !== 'IN') return { kind: 'reply', response: headerReply(raw, RCODE.refused) };
  const opt = decoded.additionals?.find((a) => a.type === 'OPT');
  return {
    kind: 'query',
    query: {
      id: raw.readUInt16BE(0),
      rd: (flags & RD) !== 0,
      cd: (flags & CD) !== 0,
      question,
      ...(opt?.type === 'OPT' ? { edns: { udpSize: opt.udpPayloadSize, dnssecOk: opt.flag_do } } : {}),
      raw,
    },
  };
};

/** The largest reply the asker can take over this transport. */
export const maxResponseBytes = (q: Query, transport: Transport): number =>
  transport === 'tcp' ? MAX_TCP_MESSAGE_BYTES : q.edns === undefined ? PLAIN_UDP_BYTES : Math.min(Math.max(q.edns.udpSize, PLAIN_UDP_BYTES), MAX_UDP_RESPONSE_BYTES);

const optFor = (q: Query): Answer[] =>
  q.edns === undefined ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: MAX_UDP_RESPONSE_BYTES, flags: q.edns.dnssecOk ? dnsPacket.DNSSEC_OK : 0 } as Answer];

export interface ReplyContent {
  readonly rcode: Rcode;
  readonly answers?: readonly Answer[];
  readonly authorities?: readonly Answer[];
  readonly additionals?: readonly Answer[];
  readonly authoritative: boolean;
  readonly recursionAvailable: boolean;
}

/**
 * Encodes a reply to q that fits `limit` bytes: when the records do not fit, the reply carries
 * the question alone with TC set, so the asker retries over TCP (RFC 7766).
 */
export const encodeReply = (q: Query, content: ReplyContent, limit: number): Buffer => {
  const flags = (content.authoritative ? AA : 0) | (q.rd ? RD : 0) | (content.recursionAvailable ? RA : 0) | (q.cd ? CD : 0) | content.rcode;
  const base: Packet = { type: 'response', id: q.id, flags, questions: [q.question] };
  const full = dnsPacket.encode({
    ...base,
    answers: [...(content.answers ?? [])],
    authorities: [...(content.authorities ?? [])],
    additionals: [...(content.additionals ?? []).filter((a) => a.type !== 'OPT'), ...optFor(q)],
  });
  if (full.length <= limit) return full;
  return dnsPacket.encode({ ...base, flags: flags | TC, additionals: optFor(q) });
};

export const replyRcode = (q: Query, rcode: Rcode, recursionAvailable: boolean, limit: number): Buffer =>
  encodeReply(q, { rcode, authoritative: false, recursionAvailable }, limit);

/** An upstream's reply, decoded; undefined when it is not a well-formed reply to this question. */
export const parseUpstreamReply = (raw: Buffer, question: Question): DecodedPacket | undefined => {
  if (raw.length < HEADER_BYTES || (raw.readUInt16BE(2) & QR) === 0) return undefined;
  try {
    const p = dnsPacket.decode(raw);
    const q = p.questions?.[0];
    if (q === undefined || q.name.toLowerCase() !== question.name.toLowerCase() || q.type !== question.type || q.class !== question.class) return undefined;
    return p;
  } catch {
    return undefined;
  }
};

export const rcodeOf = (raw: Buffer): number => raw.readUInt16BE(2) & 0xf;
export const isTruncated = (raw: Buffer): boolean => (raw.readUInt16BE(2) & TC) !== 0;

/** The same message with another id (the wire bytes otherwise untouched). */
export const withId = (raw: Buffer, id: number): Buffer => {
  const out = Buffer.from(raw);
  out.writeUInt16BE(id, 0);
  return out;
};
