/**
 * Planning for an overlay's VXLAN device and its entries. Pure, like plan.ts. An existing device
 * whose VNI, VTEP address, port or modes differ cannot be changed in place: it is deleted and
 * created again (as flannel's ensureLink does), and its entries with it. Only entries in the
 * device's own table (NTF_SELF) and permanent neighbours are ours to compare; entries the bridge
 * learns on its port are the bridge's business.
 */
import type { DesiredVxlan } from '../drivers/types.js';
import type { LinkState } from '../kernel/types.js';
import type { Action } from './actions.js';
import type { ObservedHost } from './observed.js';
import { isUntaggedOurs } from './ownership.js';

const incompatibility = (link: LinkState, want: DesiredVxlan): string | undefined => {
  const v = link.vxlan;
  if (v === undefined) return 'not a vxlan device';
  if (v.vni !== want.vni) return `vni ${v.vni} instead of ${want.vni}`;
  if (v.local !== want.local) return `local ${v.local ?? 'unset'} instead of ${want.local}`;
  if (v.port !== want.port) return `port ${v.port} instead of ${want.port}`;
  if (v.learning) return 'learning on';
  if (v.proxy !== want.proxy) return `proxy ${v.proxy ? 'on' : 'off'}`;
  return undefined;
};

const createAll = (want: DesiredVxlan): Action[] => [
  {
    do: 'createVxlan', name: want.name, mtu: want.mtu, alias: want.alias, master: want.master,
    vni: want.vni, local: want.local, port: want.port, proxy: want.proxy,
  },
  ...want.fdb.map((f): Action => ({ do: 'addFdb', link: want.name, ...f })),
  ...want.neighbours.map((n): Action => ({ do: 'addNeighbour', link: want.name, ...n })),
];

export const planVxlan = (observed: ObservedHost, want: DesiredVxlan): { actions: Action[]; problems: string[]; notes: string[] } => {
  const link = observed.host.links.find((l) => l.name === want.name);
  if (!link) return { actions: createAll(want), problems: [], notes: [] };
  const untagged = isUntaggedOurs(link);
  if (!untagged && link.alias !== want.alias) {
    return { actions: [], problems: [`link ${want.name} already exists and was not created by tnet for this network`], notes: [] };
  }
  const why = incompatibility(link, want);
  if (why !== undefined) {
    return { actions: [{ do: 'deleteLink', link: link.name }, ...createAll(want)], problems: [], notes: [`recreating ${link.name}: ${why}`] };
  }
  const actions: Action[] = untagged ? [{ do: 'tagLink', link: link.name, alias: want.alias, noIpv6LinkLocal: false }] : [];
  const bridge = observed.host.links.find((l) => l.name === want.master);
  if (!bridge || link.masterIndex !== bridge.index) actions.push({ do: 'setLink', link: link.name, change: { master: want.master } });
  if (link.mtu !== want.mtu) actions.push({ do: 'setLink', link: link.name, change: { mtu: want.mtu } });
  if (!link.up) actions.push({ do: 'setLink', link: link.name, change: { up: true } });

  const key = (mac: string, dst: string | undefined): string => `${mac}>${dst ?? ''}`;
  const haveFdb = (observed.fdb ?? []).filter((f) => f.linkIndex === link.index && f.self);
  const wantFdb = new Set(want.fdb.map((f) => key(f.mac, f.dst)));
  const haveFdbKeys = new Set(haveFdb.map((f) => key(f.mac, f.dst)));
  // Stale entries first: a MAC that moved to another host must lose its old VTEP before it gets the new one.
  for (const f of haveFdb) if (!wantFdb.has(key(f.mac, f.dst)) && f.dst !== undefined) actions.push({ do: 'deleteFdb', link: link.name, mac: f.mac, dst: f.dst });
  for (const f of want.fdb) if (!haveFdbKeys.has(key(f.mac, f.dst))) actions.push({ do: 'addFdb', link: link.name, ...f });

  // Both families live in one list; an address names its family, so comparing addresses suffices.
  const haveNeigh = (observed.neighbours ?? []).filter((n) => n.linkIndex === link.index && n.permanent);
  for (const n of haveNeigh) {
    if (!want.neighbours.some((w) => w.address === n.address)) actions.push({ do: 'deleteNeighbour', link: link.name, family: n.family, address: n.address });
  }
  for (const w of want.neighbours) {
    if (!haveNeigh.some((n) => n.address === w.address && n.mac === w.mac)) actions.push({ do: 'addNeighbour', link: link.name, ...w });
  }
  return { actions, problems: [], notes: [] };
};
