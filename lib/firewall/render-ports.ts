/**
 * The fixed part of port publishing: chains and rules that read the forward maps
 * (firewall/forwards.ts). The rules never change with the number of mappings; a new mapping is
 * only a new element, and each new connection costs the same two hash lookups whatever the count.
 *
 * Paths and why each rule exists:
 * - from elsewhere (prerouting) and from the host itself (output): dnat by (proto, daddr, dport)
 *   for mappings bound to one address, by (proto, dport) on any local address otherwise;
 * - 127.0.0.1 on the host: the bridges have route_localnet (bridge driver), and such packets are
 *   masqueraded, as a container cannot answer 127.0.0.1; `guard` drops anything else arriving on
 *   a bridge for 127/8, which route_localnet would otherwise accept (CVE-2020-8558);
 * - another container of the same network, or the same one (hairpin), via a host address: the
 *   answer would bypass the host, so those are masqueraded to the gateway; nothing else is, so
 *   a container sees the real address of outside clients;
 * - published ports are reachable from other networks too (accepted before isolation).
 */
import type { NetworkFirewall } from '../drivers/types.js';
import { mapName } from './forwards.js';
import {
  accept, ctDnat, daddrIn, daddrIsLocal, daddrOf, dnatByMaps, drop, iifnameInSet, l4proto, masquerade, nfproto,
  oifname, oifnameInSet, saddrIn, thDport,
} from './statements.js';
import type { ChainDef, NftStatement } from './types.js';

export const PORT_CHAINS: readonly ChainDef[] = [
  { name: 'guard', type: 'filter', hook: 'prerouting', priority: -300 },
  { name: 'prerouting', type: 'nat', hook: 'prerouting', priority: -100 },
  { name: 'output', type: 'nat', hook: 'output', priority: -100 },
];

type Rule = readonly [chain: string, purpose: string, statements: NftStatement[]];

const dnatRules = (chain: 'prerouting' | 'output'): Rule[] =>
  ([4, 6] as const).flatMap((family) =>
    [true, false].map((bound): Rule => {
      const key = bound ? [l4proto, daddrOf(family), thDport] : [l4proto, thDport];
      // IPv6 has no route_localnet: a packet from ::1 can never leave the host, so ::1 is not forwarded.
      const noLoopback6 = chain === 'output' && family === 6 && !bound ? [daddrIn('::1/128', '!=')] : [];
      return [chain, `dnat${family}${bound ? '-bound' : '-any'}`, [
        nfproto(family),
        ...(bound ? [] : [daddrIsLocal]),
        ...noLoopback6,
        dnatByMaps(family, key, mapName(family, bound, 'addr'), mapName(family, bound, 'port')),
      ]];
    }),
  );

/** Rules for the forward chain, placed before isolation. */
export const publishedForwardRules = (): Rule[] => [['forward', 'published', [ctDnat, accept]]];

export const portRules = (nets: readonly NetworkFirewall[], bridgesSet: string): Rule[] => [
  ['guard', 'no-localnet-in', [iifnameInSet(bridgesSet), daddrIn('127.0.0.0/8'), drop]],
  ...dnatRules('prerouting'),
  ...dnatRules('output'),
  ['postrouting', 'localhost', [nfproto(4), saddrIn('127.0.0.0/8'), ctDnat, oifnameInSet(bridgesSet), masquerade]],
  ...nets
    .filter((n) => !n.internal)
    // iifname is never set in postrouting: "from this network" is its subnet as the source.
    .flatMap((n) => n.subnets.map((subnet): Rule => ['postrouting', `hairpin:${n.networkId.slice(0, 12)}`, [saddrIn(subnet), oifname(n.bridge), ctDnat, masquerade]])),
];
