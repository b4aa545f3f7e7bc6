/**
 * A scoped pass writes an endpoint's port-forward elements blind (it never lists the maps, which
 * costs O(mappings); see plan-forwards.ts), so a pass over an endpoint with published ports
 * always plans that write, even when every element is there. Before taking the host lock for
 * nothing, the daemon asks the kernel for just those elements (`get element`, one lookup each).
 */
import { elementId, elementsOfListed, sameElement, type NftElement } from '../firewall/forwards.js';
import { TABLE_FAMILY, TABLE_NAME } from '../firewall/types.js';
import type { Action } from '../reconcile/actions.js';
import type { NftSession } from '../kernel/types.js';

type ForwardUpdate = Extract<Action, { do: 'updateForwards' }>;

/** Only additions the pass could not check (a blind write), nothing it found wrong. */
export const onlyBlindAdds = (actions: readonly Action[]): actions is readonly ForwardUpdate[] =>
  actions.every((a) => a.do === 'updateForwards' && !a.observed && a.remove.length === 0 && a.forget.length === 0);

/**
 * libnftables 1.0.6 answers `get element` in nft syntax even on a JSON context
 * (`elements = { tcp . 8080 comment "tnet:…" : 80 }`); a later one may answer JSON.
 */
export const elementsOfGet = (map: string, out: string): NftElement[] => {
  try {
    return ((JSON.parse(out) as { nftables?: unknown[] }).nftables ?? []).flatMap(elementsOfListed);
  } catch {
    const m = /elements = \{ (.+?)(?: comment "([^"]*)")? : (\S+) \}/.exec(out);
    if (m === null) return [];
    const key = (m[1] ?? '').split(' . ').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const value = m[3] ?? '';
    return [{ map, key, value: /^\d+$/.test(value) ? Number(value) : value, comment: m[2] ?? '' }];
  }
};

const present = (nft: NftSession, e: NftElement): boolean => {
  let out: string;
  try {
    out = nft.run(`get element ${TABLE_FAMILY} ${TABLE_NAME} ${e.map} { ${e.key.join(' . ')} }`);
  } catch {
    return false; // absent (or unreadable): the write is a repair
  }
  return elementsOfGet(e.map, out).some((l) => elementId(l) === elementId(e) && sameElement(l, e));
};

/** Whether every element these updates would add is already in the kernel, value and owner alike. */
export const alreadyPresent = (nft: NftSession, updates: readonly ForwardUpdate[]): boolean =>
  updates.every((u) => u.add.every((e) => present(nft, e)));
