/**
 * The steps a reconcile pass takes, as data: printable (`tnet diff`), testable, and executed in
 * order by apply.ts. Links are named, not indexed, so a plan means the same thing when it runs.
 * `netns` is a container namespace path; absent means the host namespace.
 */
import type { DesiredAddress, DesiredNeighbour, DesiredRoute } from '../drivers/types.js';
import type { NftElement } from '../firewall/forwards.js';
import type { FirewallTable } from '../firewall/types.js';
import type { IpFamily } from '../model/types.js';

export type Action =
  | { readonly do: 'createBridge'; readonly name: string; readonly mtu: number; readonly mac: string; readonly alias: string }
  | {
      readonly do: 'createVeth';
      readonly name: string;
      readonly mtu: number;
      readonly alias: string;
      readonly master: string;
      readonly netns: string;
      readonly peer: { readonly name: string; readonly mac: string; readonly mtu: number };
    }
  | {
      readonly do: 'setLink';
      readonly netns?: string;
      readonly link: string;
      readonly change: { readonly up?: true; readonly mtu?: number; readonly master?: string; readonly mac?: string; readonly hairpin?: true };
    }
  /** Owner tag on a link born ours (TNET_LINK_GROUP) whose tagging was interrupted. */
  | { readonly do: 'tagLink'; readonly link: string; readonly alias: string; readonly noIpv6LinkLocal: boolean }
  | { readonly do: 'addAddress'; readonly netns?: string; readonly link: string; readonly address: DesiredAddress }
  | { readonly do: 'deleteAddress'; readonly netns?: string; readonly link: string; readonly address: DesiredAddress }
  | { readonly do: 'addRoute'; readonly netns?: string; readonly link: string; readonly route: DesiredRoute }
  | { readonly do: 'deleteLink'; readonly netns?: string; readonly link: string }
  | {
      readonly do: 'createVxlan';
      readonly name: string;
      readonly mtu: number;
      readonly alias: string;
      readonly master: string;
      readonly vni: number;
      readonly local: string;
      readonly port: number;
      readonly proxy: boolean;
    }
  | { readonly do: 'addFdb'; readonly link: string; readonly mac: string; readonly dst: string }
  | { readonly do: 'deleteFdb'; readonly link: string; readonly mac: string; readonly dst: string }
  | ({ readonly do: 'addNeighbour'; readonly link: string } & DesiredNeighbour)
  | { readonly do: 'deleteNeighbour'; readonly link: string; readonly family: IpFamily; readonly address: string }
  | { readonly do: 'setSysctl'; readonly key: string; readonly value: string }
  /** The whole table in one transaction, with every wanted port-forward element. */
  | { readonly do: 'replaceFirewall'; readonly table: FirewallTable; readonly forwards: readonly NftElement[] }
  /**
   * Port-forward elements in one transaction: `forget` (delete that tolerates absence), `remove`
   * (observed elements), then `add`. `observed` tells whether the elements were listed first.
   */
  | {
      readonly do: 'updateForwards';
      readonly add: readonly NftElement[];
      readonly remove: readonly NftElement[];
      readonly forget: readonly NftElement[];
      readonly observed: boolean;
    }
  | { readonly do: 'deleteFirewall' }
  /** A file of a named namespace under /etc/netns (its resolv.conf); previous: what it replaces, for the undo. */
  | { readonly do: 'writeNetnsFile'; readonly namespace: string; readonly file: string; readonly text: string; readonly previous?: string }
  | { readonly do: 'removeNetnsFile'; readonly namespace: string; readonly file: string };

const where = (netns: string | undefined): string => (netns === undefined ? '' : ` in ${netns}`);
const cidr = (a: DesiredAddress): string => `${a.address}/${a.prefixLength}`;

export const describeAction = (a: Action): string => {
  switch (a.do) {
    case 'createBridge':
      return `create bridge ${a.name} (mtu ${a.mtu}, mac ${a.mac}), up`;
    case 'createVeth':
      return `create veth ${a.name} on ${a.master} <-> ${a.peer.name}${where(a.netns)} (mac ${a.peer.mac})`;
    case 'setLink':
      return `set ${a.link}${where(a.netns)}: ${Object.entries(a.change)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ')}`;
    case 'tagLink':
      return `tag link ${a.link} as ${a.alias} (its creation was interrupted)`;
    case 'addAddress':
      return `add address ${cidr(a.address)} to ${a.link}${where(a.netns)}`;
    case 'deleteAddress':
      return `delete address ${cidr(a.address)} from ${a.link}${where(a.netns)}`;
    case 'addRoute':
      return `add route ${a.route.destination} via ${a.route.gateway} dev ${a.link}${where(a.netns)}`;
    case 'deleteLink':
      return `delete link ${a.link}${where(a.netns)}`;
    case 'createVxlan':
      return `create vxlan ${a.name} on ${a.master} (vni ${a.vni}, local ${a.local}, port ${a.port}, mtu ${a.mtu}${a.proxy ? ', arp proxy' : ''})`;
    case 'addFdb':
      return `add fdb ${a.mac} dst ${a.dst} on ${a.link}`;
    case 'deleteFdb':
      return `delete fdb ${a.mac} dst ${a.dst} on ${a.link}`;
    case 'addNeighbour':
      return `add neighbour ${a.address} lladdr ${a.mac} on ${a.link}`;
    case 'deleteNeighbour':
      return `delete neighbour ${a.address} on ${a.link}`;
    case 'setSysctl':
      return `set sysctl ${a.key.replaceAll('/', '.')}=${a.value}`;
    case 'replaceFirewall':
      return `write nft table inet tnet (${a.table.rules.length} rules, ${a.forwards.length} port-forward elements)`;
    case 'updateForwards': {
      const parts = [`+${a.add.length}`, `-${a.remove.length + a.forget.length}`];
      return `update port-forward elements (${parts.join(' ')})${a.observed ? '' : ' in scope'}`;
    }
    case 'deleteFirewall':
      return 'delete nft table inet tnet';
    case 'writeNetnsFile':
      return `write /etc/netns/${a.namespace}/${a.file}${a.previous === undefined ? '' : ' (replacing tnet\'s previous one)'}`;
    case 'removeNetnsFile':
      return `remove /etc/netns/${a.namespace}/${a.file}`;
  }
};
