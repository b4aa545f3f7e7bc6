/**
 * Encodes a FirewallTable as libnftables JSON commands, and reads a listed table back into the
 * same comparable shape. Our table is replaced as a whole in one transaction when it drifted.
 */
import { byCodeUnit } from './order.js';
import { TABLE_FAMILY, TABLE_NAME, type FirewallTable } from './types.js';

type Command = Record<string, unknown>;

const table = { family: TABLE_FAMILY, name: TABLE_NAME };
const inTable = { family: TABLE_FAMILY, table: TABLE_NAME };

/** Creates the table if needed, then drops it; both in one batch makes a delete that cannot fail. */
const dropTableCommands = (): Command[] => [{ add: { table } }, { delete: { table } }];

export const replaceTableCommands = (fw: FirewallTable): { nftables: Command[] } => ({
  nftables: [
    ...dropTableCommands(),
    { add: { table } },
    ...fw.chains.map((c) => ({
      add: { chain: { ...inTable, name: c.name, type: c.type, hook: c.hook, prio: c.priority, policy: 'accept' } },
    })),
    ...fw.sets.map((s) => ({
      add: { set: { ...inTable, name: s.name, type: s.type, ...(s.elements.length > 0 ? { elem: [...s.elements] } : {}) } },
    })),
    ...fw.maps.map((m) => ({ add: { map: { ...inTable, name: m.name, type: [...m.keyType], map: m.valueType } } })),
    ...fw.rules.map((r) => ({ add: { rule: { ...inTable, chain: r.chain, comment: r.comment, expr: r.statements } } })),
  ],
});

export const deleteTableCommands = (): { nftables: Command[] } => ({ nftables: dropTableCommands() });

/** Rule order matters within a chain only; a stable sort on the chain name keeps it. */
const byChain = (rules: string[]): string[] =>
  [...rules].sort((a, b) => byCodeUnit(a.slice(0, a.indexOf('/')), b.slice(0, b.indexOf('/'))));

/**
 * A signature of what matters for drift: chains with their hooks, set elements, and the ordered
 * rule tags per chain. Rule tags hash the statements, so a rule rewritten by hand no longer matches.
 */
export const signatureOf = (fw: FirewallTable): string =>
  JSON.stringify({
    chains: fw.chains.map((c) => `${c.name}:${c.type}:${c.hook}:${c.priority}`).sort(),
    sets: fw.sets.map((s) => `${s.name}=${[...s.elements].sort().join(',')}`).sort(),
    maps: fw.maps.map((m) => mapSignature(m.name, m.keyType, m.valueType)).sort(),
    rules: byChain(fw.rules.map((r) => `${r.chain}/${r.comment}`)),
  });

/** Map declarations count for drift, their elements do not: those are diffed one by one (forwards.ts). */
const mapSignature = (name: string, keyType: unknown, valueType: unknown): string =>
  `${name}:${[keyType].flat().map(String).join('.')}:${String(valueType)}`;

interface ListedItem {
  chain?: { name: string; type?: string; hook?: string; prio?: number };
  set?: { name: string; elem?: unknown[] };
  map?: { name: string; type?: unknown; map?: unknown };
  rule?: { chain: string; comment?: string };
}

export const signatureOfListed = (items: readonly unknown[]): string => {
  const listed = items as readonly ListedItem[];
  const chains: string[] = [];
  const sets: string[] = [];
  const maps: string[] = [];
  const rules: string[] = [];
  for (const item of listed) {
    if (item.chain) chains.push(`${item.chain.name}:${item.chain.type}:${item.chain.hook}:${item.chain.prio}`);
    if (item.set) sets.push(`${item.set.name}=${(item.set.elem ?? []).map(String).sort().join(',')}`);
    if (item.map) maps.push(mapSignature(item.map.name, item.map.type, item.map.map));
    if (item.rule) rules.push(`${item.rule.chain}/${item.rule.comment ?? ''}`);
  }
  return JSON.stringify({ chains: chains.sort(), sets: sets.sort(), maps: maps.sort(), rules: byChain(rules) });
};
