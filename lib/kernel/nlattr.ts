/** Netlink attributes (little-endian TLVs, each padded to 4 bytes), read without trusting the bytes. Pure. */

export interface Attr {
  readonly type: number;
  readonly value: Buffer;
}

/** The attributes from `offset` on, in order; stops at the first malformed one. */
export const attributes = (buf: Buffer, offset = 0): Attr[] => {
  const out: Attr[] = [];
  for (let off = offset; off + 4 <= buf.length; ) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    // The top two bits of the type are the nested and byte-order flags.
    out.push({ type: buf.readUInt16LE(off + 2) & 0x3fff, value: buf.subarray(off + 4, off + len) });
    off += (len + 3) & ~3;
  }
  return out;
};

/** By type (the last one wins), for messages whose attributes each come once. */
export const attributeMap = (buf: Buffer, offset = 0): Map<number, Buffer> => new Map(attributes(buf, offset).map((a) => [a.type, a.value]));

/** A NUL-terminated string attribute. */
export const cString = (b: Buffer | undefined): string | undefined => {
  if (b === undefined) return undefined;
  const nul = b.indexOf(0);
  return b.subarray(0, nul === -1 ? b.length : nul).toString('utf8');
};
