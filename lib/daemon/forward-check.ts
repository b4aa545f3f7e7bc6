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

const present = (nft: NftSession, e: NftElement): boolean => {
  let out: string;
  try {
    out = nft.run(`get element ${TABLE_FAMILY} ${TABLE_NAME} ${e.map} { ${e.key.join(' . ')} }`);
  } catch {
    return false; // absent (or unreadable): the write is a repair
  }
  const listed = ((JSON.parse(out) as { nftables?: unknown[] }).nftables ?? []).flatMap(elementsOfListed);
  return listed.some((l) => elementId(l) === elementId(e) && sameElement(l, e));
};

/** Whether every element these updates would add is already in the kernel, value and owner alike. */
export const alreadyPresent = (nft: NftSession, updates: readonly ForwardUpdate[]): boolean =>
  updates.every((u) => u.add.every((e) => present(nft, e)));
