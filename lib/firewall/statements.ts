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
