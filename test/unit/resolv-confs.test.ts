import { describe, expect, it } from 'vitest';
import { renderResolvConf } from '../../lib/dns/resolv-conf.js';
import type { Network } from '../../lib/model/types.js';
import { departingHost, desiredHost } from '../../lib/reconcile/desired.js';
import { planResolvConfs, resolvConfNamespaces, wantedResolvConfs } from '../../lib/reconcile/resolv-confs.js';
import { endpoint, network } from './fixtures.js';

const web = { ...network({ name: 'web' }), ipv6: { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' } } satisfies Network;
const db = network({ name: 'db', ipv4: { subnet: '10.2.0.0/24', gateway: '10.2.0.1' } });
const quiet = { ...network({ name: 'quiet', ipv4: { subnet: '10.3.0.0/24', gateway: '10.3.0.1' } }), dnsEnabled: false };
const c1web = endpoint(web, '/run/netns/c1', '10.1.0.2');
const c1db = { ...endpoint(db, '/run/netns/c1', '10.2.0.2'), routeMetric: 101 };
const c2 = endpoint(quiet, '/run/netns/c2', '10.3.0.2');
const runtime = { ...endpoint(web, '/run/netns/netns-1234', '10.1.0.9'), owner: { kind: 'cni' as const, containerId: 'abc' } };
const byPid = endpoint(web, '/proc/42/ns/net', '10.1.0.7');

describe('resolv.conf of named namespaces', () => {
  it('lists the gateways of a namespace\'s DNS networks, first network first, IPv4 before IPv6', () => {
    const wanted = wantedResolvConfs(desiredHost([web, db, quiet], [c1db, c1web, c2, runtime, byPid]));
    expect([...wanted.keys()]).toEqual(['c1']);
    expect(wanted.get('c1')).toBe(renderResolvConf(['10.1.0.1', '10.2.0.1', 'fd00:1::1']));
  });

  it('writes a missing or stale file of ours, removes ours when unwanted, and never touches another\'s', () => {
    const want = new Map([['a', 'NEW'], ['b', 'NEW'], ['c', 'NEW']]);
    const ours = renderResolvConf(['10.9.0.1']);
    const plan = planResolvConfs(want, new Map([['a', undefined], ['b', ours], ['c', 'nameserver 1.1.1.1\n'], ['d', ours], ['e', undefined], ['f', 'nameserver 1.1.1.1\n']]));
    expect(plan.actions).toEqual([
      { do: 'writeNetnsFile', namespace: 'a', file: 'resolv.conf', text: 'NEW' },
      { do: 'writeNetnsFile', namespace: 'b', file: 'resolv.conf', text: 'NEW', previous: ours },
      { do: 'removeNetnsFile', namespace: 'd', file: 'resolv.conf' },
    ]);
    expect(plan.notes).toEqual([expect.stringMatching(/^\/etc\/netns\/c\/resolv.conf was not written by tnet/)]);
  });

  it('looks at the namespaces of the endpoints in scope and of those departing', () => {
    const going = { ...c1db, phase: 'removing' as const };
    const desired = desiredHost([web, db], [c1web, going]);
    const departed = departingHost([web, db], [c1web, going]);
    expect(resolvConfNamespaces(desired, departed, { endpoints: new Set() })).toEqual(['c1']);
    expect(resolvConfNamespaces(desiredHost([web], [c1web]), departingHost([web], [c1web]), { endpoints: new Set() })).toEqual([]);
    expect(resolvConfNamespaces(desiredHost([web], [c1web]), departingHost([web], [c1web]), 'all')).toEqual(['c1']);
  });
});
