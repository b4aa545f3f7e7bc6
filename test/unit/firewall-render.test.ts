import { describe, expect, it } from 'vitest';
import { bridgeDriver } from '../../lib/drivers/bridge.js';
import { replaceTableCommands, signatureOf, signatureOfListed } from '../../lib/firewall/encode.js';
import { renderFirewall } from '../../lib/firewall/render.js';
import { network } from './fixtures.js';

const web = network({ name: 'web', ipv4: { subnet: '10.1.0.0/24', gateway: '10.1.0.1' }, ipv6: { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' } });
const db = network({ name: 'db', ipv4: { subnet: '10.2.0.0/24', gateway: '10.2.0.1' }, internal: true });
const firewallOf = (...nets: typeof web[]) => nets.map((n) => bridgeDriver.network(n).firewall).filter((f) => f !== undefined);

describe('firewall rendering', () => {
  it('renders nothing when no network needs a firewall, so the table can be deleted', () => {
    expect(renderFirewall([])).toBeUndefined();
  });

  it('matches the golden nft JSON for a dual-stack network and an internal one', async () => {
    const table = renderFirewall(firewallOf(web, db));
    expect(table).toBeDefined();
    await expect(JSON.stringify(replaceTableCommands(table!), null, 2)).toMatchFileSnapshot('golden/firewall-web-db.json');
  });

  it('masquerades every subnet of a non-internal network and none of an internal one', () => {
    const table = renderFirewall(firewallOf(web, db))!;
    const masq = table.rules.filter((r) => r.comment.includes('masquerade'));
    expect(masq).toHaveLength(2);
    expect(JSON.stringify(masq)).toContain('fd00:1::');
    expect(JSON.stringify(masq)).not.toContain('10.2.0.0');
    expect(table.rules.filter((r) => r.comment.includes('internal'))).toHaveLength(2);
  });

  it('is independent of the order networks come in', () => {
    expect(renderFirewall(firewallOf(web, db))).toEqual(renderFirewall(firewallOf(db, web)));
  });

  it('gives a listed table the same signature as the rendered one, and a different one after a rule is lost', () => {
    const table = renderFirewall(firewallOf(web, db))!;
    const listed = [
      { table: { family: 'inet', name: 'tnet' } },
      ...table.chains.map((c) => ({ chain: { name: c.name, type: c.type, hook: c.hook, prio: c.priority } })),
      ...table.sets.map((s) => ({ set: { name: s.name, elem: [...s.elements].reverse() } })),
      ...table.maps.map((m) => ({ map: { name: m.name, type: [...m.keyType], map: m.valueType } })),
      ...table.rules.map((r) => ({ rule: { chain: r.chain, comment: r.comment } })),
    ];
    expect(signatureOfListed(listed)).toBe(signatureOf(table));
    expect(signatureOfListed(listed.slice(0, -1))).not.toBe(signatureOf(table));
  });
});
