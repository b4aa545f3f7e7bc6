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

/** A named map; concatenated keys are declared as a list of types (what libnftables JSON accepts). */
export interface MapDef {
  readonly name: string;
  readonly keyType: readonly string[];
  readonly valueType: string;
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
  /** Port-forward maps: declared with the table, filled element by element (firewall/forwards.ts). */
  readonly maps: readonly MapDef[];
  readonly rules: readonly RuleDef[];
}
