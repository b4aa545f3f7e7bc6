/** Conversions between tnet's text forms (addresses, CIDRs, MACs) and netlink byte buffers. */
import { Address4, Address6 } from 'ip-address';
import { TnetError } from '../errors.js';
import type { IpFamily } from '../model/types.js';

export const AF_INET = 2;
export const AF_INET6 = 10;

export const afOf = (family: IpFamily): number => (family === 4 ? AF_INET : AF_INET6);

const invalid = (what: string, value: string, allowed: string): TnetError =>
  new TnetError('invalidInput', `${what} "${value}" is not valid: expected ${allowed}`, { op: what, target: value });

/** A plain IPv4/IPv6 address (no prefix) as 4 or 16 bytes. */
export const ipToBytes = (family: IpFamily, address: string): Buffer => {
  if (family === 4) {
    if (!Address4.isValid(address) || address.includes('/')) throw invalid('IPv4 address', address, 'a.b.c.d');
    return Buffer.from(new Address4(address).toArray());
  }
  if (!Address6.isValid(address) || address.includes('/')) throw invalid('IPv6 address', address, 'an IPv6 address like fd00::1');
  const bytes = new Address6(address).toUnsignedByteArray();
  // toUnsignedByteArray drops leading zero bytes (it goes through a BigInt): left-pad to 16.
  return Buffer.concat([Buffer.alloc(16 - bytes.length), Buffer.from(bytes)]);
};

/** 4 or 16 bytes as canonical text (RFC 5952 for IPv6). */
export const bytesToIp = (bytes: Buffer): string =>
  bytes.length === 4 ? Array.from(bytes).join('.') : Address6.fromUnsignedByteArray(Array.from(bytes)).correctForm();

/** "10.0.0.0/24" or "::/0" as address bytes and prefix length. */
export const parseCidr = (family: IpFamily, cidr: string): { bytes: Buffer; prefixLength: number } => {
  const [addr = '', len, extra] = cidr.split('/');
  const max = family === 4 ? 32 : 128;
  const prefixLength = Number(len);
  if (extra !== undefined || len === undefined || !/^\d+$/.test(len) || prefixLength > max) {
    throw invalid(`IPv${family} CIDR`, cidr, `address/prefix with prefix 0..${max}`);
  }
  return { bytes: ipToBytes(family, addr), prefixLength };
};

export const macToBytes = (mac: string): Buffer => {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw invalid('MAC address', mac, 'six hex pairs like 02:42:ac:11:00:02');
  return Buffer.from(mac.replace(/:/g, ''), 'hex');
};

export const bytesToMac = (bytes: Buffer): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
