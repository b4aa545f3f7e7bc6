/**
 * `tnet doctor`: what on this host breaks container networking, from facts gathered once
 * (facts.ts). Pure: each check is a function of the facts, so every finding is unit-testable, and
 * each says what to do.
 */
import type { DesiredNetwork } from '../reconcile/desired.js';
import { desiredHost, hostLinkNames } from '../reconcile/desired.js';
import { cidrsOverlap } from '../model/cidr.js';
import { ownerAlias, parseOwnerAlias } from '../model/names.js';
import type { Endpoint } from '../model/types.js';
import { TABLE_FAMILY, TABLE_NAME } from '../firewall/types.js';
import { dockerGoneFix, goneAdvice } from '../service/gone.js';
import type { DoctorFacts, ForwardChain } from './facts.js';

export type Check =
  | 'store' | 'daemon' | 'kernel-modules' | 'forwarding' | 'forward-policy' | 'br-netfilter'
  | 'route-overlap' | 'overlay-mtu' | 'unexplained' | 'namespace-gone';

export interface Finding {
  readonly check: Check;
  readonly message: string;
  readonly fix: string;
}

/** VXLAN over IPv4: outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8 (see docs/overlay.md). */
const VXLAN_OVERHEAD = 50;

const isOurTable = (c: ForwardChain): boolean => c.family === TABLE_FAMILY && c.table === TABLE_NAME;
const droppingForward = (facts: DoctorFacts): ForwardChain[] => facts.forwardChains.filter((c) => !isOurTable(c) && c.policy === 'drop');
const describeChain = (c: ForwardChain): string => `table ${c.family} ${c.table} chain ${c.chain}`;

const storeFindings = (f: DoctorFacts): Finding[] =>
  f.records.ok
    ? []
    : [{ check: 'store', message: `the store cannot be read: ${f.records.error}`, fix: 'check that etcd is up and reachable from this host (--store, TNET_STORE, /etc/tnet/config.json); a running daemon repairs from the records it last read meanwhile' }];

const daemonFindings = (f: DoctorFacts): Finding[] =>
  f.daemon.running
    ? []
    : [{ check: 'daemon', message: `no tnet daemon serves state dir ${f.stateDir}${f.daemon.error === undefined ? '' : ` (${f.daemon.error})`}: nothing repairs drift between commands`, fix: "run 'tnet daemon', or install it: 'tnet daemon install --systemd-dir /etc/systemd/system'" }];

const moduleFindings = (f: DoctorFacts): Finding[] => [
  ...(f.modules.nfTables ? [] : [{ check: 'kernel-modules' as const, message: 'nf_tables is not available in this kernel: no NAT, isolation or published ports', fix: 'load it (modprobe nf_tables) or use a kernel built with CONFIG_NF_TABLES' }]),
  ...(f.modules.vxlan ? [] : [{ check: 'kernel-modules' as const, message: 'vxlan is not available in this kernel: overlay networks cannot work here', fix: 'load it (modprobe vxlan) or use a kernel built with CONFIG_VXLAN' }]),
];

const forwardingFindings = (f: DoctorFacts, desired: readonly DesiredNetwork[]): Finding[] => {
  const wanted = new Map(desired.flatMap(({ network, objects }) => objects.sysctls.map((s) => [s.key, network.name] as const)));
  return [['net/ipv4/ip_forward', 'net.ipv4.ip_forward'], ['net/ipv6/conf/all/forwarding', 'net.ipv6.conf.all.forwarding']].flatMap(([key = '', name = '']) =>
    wanted.has(key) && f.sysctls[key] === '0'
      ? [{ check: 'forwarding' as const, message: `${name} is 0: containers of network ${wanted.get(key) ?? '?'} cannot leave their bridge`, fix: `set it to 1 (sysctl -w ${name}=1), and find what turned it off; a running daemon puts it back itself` }]
      : []);
};

const forwardPolicyFindings = (f: DoctorFacts, desired: readonly DesiredNetwork[]): Finding[] => {
  if (!desired.some(({ network }) => !network.internal)) return [];
  return droppingForward(f).map((c) => ({
    check: 'forward-policy' as const,
    message: `${describeChain(c)} has policy drop (Docker's iptables rules do this): traffic of tnet networks leaving this host is dropped there, whatever table inet tnet accepts`,
    fix: `let tnet's bridges through in that table, e.g. iptables -I DOCKER-USER -i tnbr+ -j ACCEPT and -o tnbr+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT, or nft insert rule ${c.family} ${c.table} ${c.chain} iifname "tnbr*" accept`,
  }));
};

const brNetfilterFindings = (f: DoctorFacts, desired: readonly DesiredNetwork[]): Finding[] => {
  const on = ['net/bridge/bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-ip6tables'].filter((k) => f.sysctls[k] === '1');
  const drops = droppingForward(f);
  if (on.length === 0 || drops.length === 0 || desired.length === 0) return [];
  return [{
    check: 'br-netfilter',
    message: `br_netfilter passes bridged traffic to the forward hooks (${on.map((k) => k.replace(/\//g, '.')).join(', ')} = 1) and ${drops.map(describeChain).join(', ')} drops by default: even containers on the same tnet network may not reach each other`,
    fix: 'accept tnet bridges in that chain (see the forward-policy finding), or set net.bridge.bridge-nf-call-iptables=0 if nothing on this host needs bridged traffic filtered',
  }];
};

const routeFindings = (f: DoctorFacts, desired: readonly DesiredNetwork[]): Finding[] => {
  const ours = new Set(f.links.filter((l) => l.alias !== undefined && parseOwnerAlias(l.alias) !== undefined).map((l) => l.index));
  return desired.flatMap(({ network }) =>
    [network.ipv4?.subnet, network.ipv6?.subnet].filter((s): s is string => s !== undefined).flatMap((subnet) =>
      f.routes
        .filter((r) => r.destination !== '0.0.0.0/0' && r.destination !== '::/0' && !r.destination.startsWith('fe80:'))
        .filter((r) => r.outIndex === undefined || !ours.has(r.outIndex))
        .filter((r) => cidrsOverlap(r.destination, subnet))
        .map((r) => {
          const dev = f.links.find((l) => l.index === r.outIndex)?.name ?? 'another interface';
          return {
            check: 'route-overlap' as const,
            message: `route ${r.destination} via ${dev} overlaps network ${network.name} (${subnet}): traffic to some containers goes to ${dev} (a VPN?) instead`,
            fix: `recreate ${network.name} with a subnet that overlaps no route (tnet create picks one when --subnet is left out), or narrow that route`,
          };
        })));
};

const mtuFindings = (f: DoctorFacts, desired: readonly DesiredNetwork[]): Finding[] => {
  if (f.underlayMtu === undefined) return [];
  const max = f.underlayMtu - VXLAN_OVERHEAD;
  return desired
    .filter(({ network }) => network.driver === 'overlay' && network.mtu > max)
    .map(({ network }) => ({
      check: 'overlay-mtu' as const,
      message: `overlay ${network.name} has MTU ${network.mtu}, but the underlay carries ${f.underlayMtu} (at most ${max} inside VXLAN): large packets are dropped or fragmented`,
      fix: `recreate ${network.name} with --mtu ${max} or less, or raise the underlay's MTU`,
    }));
};

const unexplainedFindings = (f: DoctorFacts, desired: readonly DesiredNetwork[]): Finding[] => {
  const wanted = new Set(hostLinkNames(desired));
  const links = f.links
    .filter((l) => l.alias !== undefined && parseOwnerAlias(l.alias) !== undefined && !wanted.has(l.name))
    .map((l) => ({ check: 'unexplained' as const, message: `link ${l.name} (${l.alias ?? ''}) is tnet's, but no record explains it`, fix: 'a running daemon removes it on its next full pass; or run tnet apply -f with your spec, or delete it (ip link del)' }));
  const owners = new Set(desired.flatMap(({ network, endpoints: eps }) => eps.map(({ endpoint }) => ownerAlias(network.id, endpoint.id))));
  const elements = f.forwardElements
    .filter((e) => !owners.has(e.comment))
    .map((e) => ({ check: 'unexplained' as const, message: `port-forward element ${e.map} ${e.key.join(' . ')} (${e.comment}) belongs to no recorded endpoint`, fix: 'a running daemon removes it on its next full pass' }));
  const table = f.tablePresent && desired.every(({ objects }) => objects.firewall === undefined)
    ? [{ check: 'unexplained' as const, message: 'table inet tnet exists but no network needs it', fix: 'a running daemon removes it; or nft delete table inet tnet' }]
    : [];
  return [...links, ...elements, ...table];
};

const goneFindings = (f: DoctorFacts, endpoints: readonly Endpoint[]): Finding[] =>
  endpoints
    .filter((e) => f.namespacesGone.has(e.id))
    .map((e) => ({
      check: 'namespace-gone' as const,
      message: e.owner.kind === 'cni' ? `endpoint ${e.network}/${e.netns} of container ${e.owner.containerId}: the namespace is gone` : goneAdvice(e),
      fix: e.owner.kind === 'cni'
        ? `a running daemon releases it (as a CNI GC would); or tnet disconnect ${e.network} --container ${e.owner.containerId}`
        : e.owner.kind === 'docker' ? dockerGoneFix(e) : `tnet disconnect ${e.network} --netns ${e.netns}`,
    }));

export const diagnose = (f: DoctorFacts): Finding[] => {
  const records = f.records.ok ? f.records : { networks: [], endpoints: [], cluster: undefined };
  const desired = desiredHost(records.networks, records.endpoints, records.cluster);
  const local = desired.flatMap(({ endpoints }) => endpoints.map(({ endpoint }) => endpoint));
  return [
    ...storeFindings(f),
    ...daemonFindings(f),
    ...moduleFindings(f),
    ...forwardingFindings(f, desired),
    ...forwardPolicyFindings(f, desired),
    ...brNetfilterFindings(f, desired),
    ...routeFindings(f, desired),
    ...mtuFindings(f, desired),
    ...(f.records.ok ? unexplainedFindings(f, desired) : []),
    ...goneFindings(f, local),
  ];
};
