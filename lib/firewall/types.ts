/** The firewall as data: what our `inet tnet` table must contain, before it is encoded for nft. */

export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'tnet';

export interface ChainDef {
  readonly name: string;
  readonly type: 'filter' | 'nat';
  readonly hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  readonly priority: number;
}

export interface SetDef {
  readonly name: string;
  readonly type: 'ifname';
  readonly elements: readonly string[];
}

/** nft JSON statements (libnftables' schema), kept opaque here. */
export type NftStatement = Record<string, unknown>;

export interface RuleDef {
  readonly chain: string;
  /** Stable tag: why the rule exists plus a hash of its statements, so drift is detectable. */
  readonly comment: string;
  readonly statements: readonly NftStatement[];
}

export interface FirewallTable {
  readonly chains: readonly ChainDef[];
  readonly sets: readonly SetDef[];
  readonly rules: readonly RuleDef[];
}
