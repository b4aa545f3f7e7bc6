/**
 * Renders every network's firewall needs into one table. Pure: the same networks always give the
 * same table (networks are sorted by id), which is what makes drift detection a comparison.
 */
import { createHash } from 'node:crypto';
import type { NetworkFirewall } from '../drivers/types.js';
import { accept, drop, iifname, iifnameInSet, masquerade, oifname, oifnameInSet, saddrIn } from './statements.js';
import { FORWARD_MAPS } from './forwards.js';
import { byCodeUnit } from './order.js';
import { PORT_CHAINS, portRules, publishedForwardRules } from './render-ports.js';
import type { ChainDef, FirewallTable, NftStatement, RuleDef } from './types.js';

const BRIDGES_SET = 'bridges';

const CHAINS: readonly ChainDef[] = [
  { name: 'forward', type: 'filter', hook: 'forward', priority: 0 },
  { name: 'postrouting', type: 'nat', hook: 'postrouting', priority: 100 },
  ...PORT_CHAINS,
];

const rule = (chain: string, purpose: string, statements: NftStatement[]): RuleDef => {
  const digest = createHash('sha256').update(JSON.stringify(statements)).digest('hex').slice(0, 10);
  return { chain, comment: `tnet ${purpose} ${digest}`, statements };
};

const tag = (net: NetworkFirewall): string => net.networkId.slice(0, 12);

export const renderFirewall = (networks: readonly NetworkFirewall[]): FirewallTable | undefined => {
  if (networks.length === 0) return undefined;
  const nets = [...networks].sort((a, b) => byCodeUnit(a.networkId, b.networkId));
  const rules: RuleDef[] = [];

  // Traffic inside one network is always allowed (seen here only when br_netfilter is loaded).
  for (const n of nets) rules.push(rule('forward', `intra:${tag(n)}`, [iifname(n.bridge), oifname(n.bridge), accept]));
  // An internal network has no way out and no way in, except to and from its own bridge.
  for (const n of nets.filter((x) => x.internal)) {
    rules.push(rule('forward', `internal-out:${tag(n)}`, [iifname(n.bridge), oifname(n.bridge, '!='), drop]));
    rules.push(rule('forward', `internal-in:${tag(n)}`, [oifname(n.bridge), iifname(n.bridge, '!='), drop]));
  }
  for (const [chain, purpose, statements] of publishedForwardRules()) rules.push(rule(chain, purpose, statements));
  // Isolation: one network's containers never reach another's (intra-network was accepted above).
  rules.push(rule('forward', 'isolation', [iifnameInSet(BRIDGES_SET), oifnameInSet(BRIDGES_SET), drop]));
  // Egress: traffic from a network's subnet that leaves through another interface takes the host's address.
  for (const n of nets.filter((x) => !x.internal)) {
    for (const subnet of n.subnets) {
      rules.push(rule('postrouting', `masquerade:${tag(n)}`, [saddrIn(subnet), oifname(n.bridge, '!='), masquerade]));
    }
  }

  for (const [chain, purpose, statements] of portRules(nets, BRIDGES_SET)) rules.push(rule(chain, purpose, statements));

  return {
    chains: CHAINS,
    sets: [{ name: BRIDGES_SET, type: 'ifname', elements: nets.map((n) => n.bridge).sort() }],
    maps: FORWARD_MAPS,
    rules,
  };
};
