/**
 * Port-forward elements: desired vs observed, one element at a time. Pure.
 *
 * A full pass (apply, drift repair) has listed every element: it adds what is missing, deletes
 * what nobody wants (or holds another value or owner), never rewriting the table. A scoped pass
 * (connect, publish, disconnect) has not listed them, because that costs O(mappings): it adds the
 * in-scope endpoints' elements (adding an identical element is a no-op) and forgets the released
 * ones with a delete that cannot fail. If a key holds something else, the add fails with
 * `exists` and the reconciler runs the pass again as a full one. A scoped pass looks only at its
 * endpoints, so its cost does not grow with other endpoints' mappings: a released element carries
 * its endpoint's owner tag, so only that endpoint (gone, or in scope) could still want it.
 */
import { elementId, elementsOf, forwardsOf, sameElement, type NftElement, type PortForward } from '../firewall/forwards.js';
import { describeHostSide } from '../model/ports.js';
import type { Action } from './actions.js';
import type { DesiredNetwork } from './desired.js';
import type { Scope } from './observe.js';

export interface ForwardPlan {
  /** Wanted elements, one per key (every endpoint's in a full pass, for a table rewrite). */
  readonly wanted: readonly NftElement[];
  readonly action?: Extract<Action, { do: 'updateForwards' }>;
  readonly problems: readonly string[];
}

const forwardLabel = (f: PortForward): string => `${describeHostSide(f)} (IPv${f.family})`;

export const planForwards = (
  desired: readonly DesiredNetwork[],
  scope: Scope,
  released: readonly PortForward[],
  observed: readonly NftElement[] | undefined,
): ForwardPlan => {
  const problems: string[] = [];
  const wanted = new Map<string, NftElement>();
  const claimedBy = new Map<string, string>();
  for (const { network, endpoints } of desired) {
    for (const { endpoint, objects } of endpoints) {
      if ((objects.kind !== 'veth' && objects.kind !== 'handedVeth') || (scope !== 'all' && !scope.endpoints.has(endpoint.id))) continue;
      for (const f of forwardsOf(network, endpoint)) {
        const label = `${network.name}/${endpoint.netns}`;
        const first = elementsOf(f)[0];
        const other = first && claimedBy.get(elementId(first));
        if (other !== undefined) {
          problems.push(`${forwardLabel(f)} is published by both ${other} and ${label}`);
          continue;
        }
        for (const e of elementsOf(f)) {
          claimedBy.set(elementId(e), label);
          wanted.set(elementId(e), e);
        }
      }
    }
  }
  const isWanted = (e: NftElement): boolean => {
    const w = wanted.get(elementId(e));
    return w !== undefined && sameElement(w, e);
  };

  let add: NftElement[];
  let remove: NftElement[] = [];
  let forget: NftElement[] = [];
  if (observed !== undefined) {
    const seen = new Map(observed.map((e) => [elementId(e), e]));
    add = [...wanted.values()].filter((w) => { const s = seen.get(elementId(w)); return s === undefined || !sameElement(s, w); });
    remove = observed.filter((e) => !isWanted(e));
  } else {
    add = [...wanted.values()];
    forget = released.flatMap(elementsOf).filter((e) => !isWanted(e));
  }
  const changes = add.length + remove.length + forget.length;
  return {
    wanted: [...wanted.values()],
    ...(changes === 0 ? {} : { action: { do: 'updateForwards', add, remove, forget, observed: observed !== undefined } }),
    problems,
  };
};
