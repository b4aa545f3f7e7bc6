/** Small builders for nft JSON statements, so rule definitions read like nft rules. */
import { parseCidr } from '../model/cidr.js';
import type { NftStatement } from './types.js';

type Operand = string | Record<string, unknown>;

const match = (op: '==' | '!=', left: Record<string, unknown>, right: Operand): NftStatement => ({
  match: { op, left, right },
});

export const iifname = (name: string, op: '==' | '!=' = '=='): NftStatement => match(op, { meta: { key: 'iifname' } }, name);
export const oifname = (name: string, op: '==' | '!=' = '=='): NftStatement => match(op, { meta: { key: 'oifname' } }, name);
export const iifnameInSet = (set: string): NftStatement => iifname(`@${set}`);
export const oifnameInSet = (set: string): NftStatement => oifname(`@${set}`);

export const saddrIn = (cidr: string): NftStatement => {
  const c = parseCidr(cidr);
  return match('==', { payload: { protocol: c.family === 4 ? 'ip' : 'ip6', field: 'saddr' } }, {
    prefix: { addr: c.network, len: c.prefixLength },
  });
};

export const accept: NftStatement = { accept: null };
export const drop: NftStatement = { drop: null };
export const masquerade: NftStatement = { masquerade: null };

export const nfproto = (family: 4 | 6): NftStatement => match('==', { meta: { key: 'nfproto' } }, family === 4 ? 'ipv4' : 'ipv6');
export const daddrIn = (cidr: string, op: '==' | '!=' = '=='): NftStatement => {
  const c = parseCidr(cidr);
  const proto = c.family === 4 ? 'ip' : 'ip6';
  const right = c.prefixLength === (c.family === 4 ? 32 : 128) ? c.network : { prefix: { addr: c.network, len: c.prefixLength } };
  return match(op, { payload: { protocol: proto, field: 'daddr' } }, right);
};
/** The destination is one of this host's own addresses (any interface, loopback included). */
export const daddrIsLocal: NftStatement = match('==', { fib: { result: 'type', flags: ['daddr'] } }, 'local');
export const ctDnat: NftStatement = { match: { op: 'in', left: { ct: { key: 'status' } }, right: 'dnat' } };
/** dnat through an address map and a port map looked up with the same key. */
export const dnatByMaps = (family: 4 | 6, key: readonly Record<string, unknown>[], addrMap: string, portMap: string): NftStatement => ({
  dnat: {
    family: family === 4 ? 'ip' : 'ip6',
    addr: { map: { key: { concat: key }, data: `@${addrMap}` } },
    port: { map: { key: { concat: key }, data: `@${portMap}` } },
  },
});
export const l4proto = { meta: { key: 'l4proto' } };
export const thDport = { payload: { protocol: 'th', field: 'dport' } };
export const daddrOf = (family: 4 | 6) => ({ payload: { protocol: family === 4 ? 'ip' : 'ip6', field: 'daddr' } });
