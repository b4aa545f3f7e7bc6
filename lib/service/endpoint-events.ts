/**
 * Turns watched endpoint events into per-endpoint changes against the records the agent last
 * knew. Pure. A batch is folded per record: the first state known before it and the last one
 * after it, so a record that came and went within one batch costs nothing.
 */
import type { Endpoint } from '../model/types.js';
import type { EndpointChange } from '../reconcile/plan-remote-endpoints.js';
import { recordKeyOf } from '../state/repository.js';
import type { WatchEvent } from '../store/types.js';

export interface FoldedEvents {
  /** The records known after the batch. */
  readonly endpoints: readonly Endpoint[];
  readonly changes: readonly EndpointChange[];
}

const idOf = (e: Pick<Endpoint, 'network' | 'id'>): string => `${e.network}/${e.id}`;

/** Folds the batch's endpoint events (others are left to the caller) into `known`. */
export const foldEndpointEvents = (known: readonly Endpoint[], events: readonly WatchEvent[]): FoldedEvents => {
  const current = new Map(known.map((e) => [idOf(e), e]));
  const before = new Map<string, Endpoint | undefined>();
  for (const event of events) {
    const key = recordKeyOf(event.key);
    if (key.kind !== 'endpoint') continue;
    const id = idOf(key);
    if (!before.has(id)) before.set(id, current.get(id));
    if (event.type === 'put') current.set(id, JSON.parse(event.value) as Endpoint);
    else current.delete(id);
  }
  const changes = [...before].flatMap(([id, was]): EndpointChange[] => {
    const is = current.get(id);
    if (was === is) return [];
    return [{ ...(was === undefined ? {} : { before: was }), ...(is === undefined ? {} : { after: is }) }];
  });
  return { endpoints: [...current.values()], changes };
};
