/**
 * What the daemon is asked to look at, and how requests that pile up while a pass runs become
 * the scope of the next one. Pure. Events are hints (controller-runtime's model): a target only
 * says where to look; the level-based pass decides what, if anything, to change.
 */
import type { Scope } from '../reconcile/observe.js';

export type Target =
  /** Everything: every link, every container namespace, every port-forward element. */
  | { readonly kind: 'full' }
  /** Bridges, VXLAN devices and their entries, sysctls and the firewall: part of every pass. */
  | { readonly kind: 'networks' }
  /** One endpoint, its container namespace included. */
  | { readonly kind: 'endpoint'; readonly id: string }
  /** One endpoint's host-side veth only (its namespace is read only if the veth is gone). */
  | { readonly kind: 'hostSide'; readonly id: string }
  /** A link of ours that perhaps no record explains any more. */
  | { readonly kind: 'goneLink'; readonly name: string };

/** Requests collected between two passes. */
export interface Work {
  full: boolean;
  networks: boolean;
  readonly endpoints: Set<string>;
  readonly hostSides: Set<string>;
  readonly goneLinks: Set<string>;
  /** Why (for the log and `tnet daemon status`), a few at most. */
  readonly reasons: Set<string>;
  /**
   * Something of ours was removed (an event no tnet change of a wanted object causes): the pass
   * need not first look without the lock for whether there is anything to do.
   */
  certain: boolean;
}

export const emptyWork = (): Work => ({ full: false, networks: false, endpoints: new Set(), hostSides: new Set(), goneLinks: new Set(), reasons: new Set(), certain: false });

const MAX_REASONS = 4;

export const addTarget = (work: Work, t: Target, reason: string, certain = false): void => {
  if (work.reasons.size < MAX_REASONS) work.reasons.add(reason);
  work.certain ||= certain;
  switch (t.kind) {
    case 'full':
      work.full = true;
      return;
    case 'networks':
      work.networks = true;
      return;
    case 'endpoint':
      work.endpoints.add(t.id);
      return;
    case 'hostSide':
      work.hostSides.add(t.id);
      return;
    case 'goneLink':
      work.goneLinks.add(t.name);
  }
};

export const isEmpty = (w: Work): boolean =>
  !w.full && !w.networks && w.endpoints.size === 0 && w.hostSides.size === 0 && w.goneLinks.size === 0;

/**
 * Back-off is kept per key: one failing endpoint must not hold up the others, nor a failing full
 * pass the scoped ones (a full pass covers them when it runs, but they must not wait for it).
 */
export const keysOf = (w: Work): string[] => [
  ...(w.full ? ['full'] : []),
  ...(w.networks ? ['networks'] : []),
  ...new Set([...w.endpoints, ...w.hostSides].map((id) => `endpoint:${id}`)),
  ...[...w.goneLinks].map((n) => `link:${n}`),
];

/** The work of one key (to run it alone after a merged pass failed). */
export const workOfKey = (w: Work, key: string): Work => {
  const one = emptyWork();
  for (const r of w.reasons) one.reasons.add(r);
  one.certain = w.certain;
  if (key === 'full') one.full = true;
  else if (key === 'networks') one.networks = true;
  else if (key.startsWith('endpoint:')) {
    const id = key.slice('endpoint:'.length);
    if (w.endpoints.has(id)) one.endpoints.add(id);
    else one.hostSides.add(id);
  } else one.goneLinks.add(key.slice('link:'.length));
  return one;
};

/** Moves the work of `keys` out of `from` into a new Work (what may run now vs. what waits). */
export const splitWork = (from: Work, keep: (key: string) => boolean): { now: Work; later: Work } => {
  const now = emptyWork();
  const later = emptyWork();
  for (const key of keysOf(from)) merge(keep(key) ? now : later, workOfKey(from, key));
  for (const r of from.reasons) now.reasons.add(r);
  return { now, later };
};

export const merge = (into: Work, w: Work): void => {
  into.full ||= w.full;
  into.certain ||= w.certain;
  into.networks ||= w.networks;
  for (const id of w.endpoints) into.endpoints.add(id);
  for (const id of w.hostSides) into.hostSides.add(id);
  for (const n of w.goneLinks) into.goneLinks.add(n);
  for (const r of w.reasons) if (into.reasons.size < MAX_REASONS) into.reasons.add(r);
};

/** A pass covers the network part whatever its scope, so 'networks' alone is an empty scope. */
export const scopeOf = (w: Work): Scope =>
  w.full
    ? 'all'
    : {
        endpoints: new Set(w.endpoints),
        hostSides: new Set([...w.hostSides].filter((id) => !w.endpoints.has(id))),
        goneLinks: [...w.goneLinks],
      };

export const describeWork = (w: Work): string => {
  if (w.full) return 'full pass';
  const parts = [
    ...(w.endpoints.size > 0 ? [`${w.endpoints.size} endpoint(s)`] : []),
    ...(w.hostSides.size > 0 ? [`${w.hostSides.size} host veth(s)`] : []),
    ...(w.goneLinks.size > 0 ? [`link(s) ${[...w.goneLinks].join(', ')}`] : []),
  ];
  return parts.length === 0 ? 'networks' : `networks + ${parts.join(' + ')}`;
};
