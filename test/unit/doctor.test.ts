/**
 * `tnet doctor`'s checks over facts, one finding at a time. The kernel-facing gathering is tested
 * on a host namespace made to have each finding (test/integration/doctor.test.ts); what no
 * namespace can fake (a kernel without nf_tables) is tested here.
 */
import { describe, expect, it } from 'vitest';
import { diagnose, type Check } from '../../lib/doctor/checks.js';
import type { DoctorFacts } from '../../lib/doctor/facts.js';
import { endpoint, network } from './fixtures.js';

const web = network({ name: 'web' });
const c1 = endpoint(web, '/run/netns/c1', '10.1.0.2');

const healthy = (): DoctorFacts => ({
  stateDir: '/var/lib/tnet',
  records: { ok: true, networks: [web], endpoints: [c1], cluster: { peers: new Map(), mode: 'store' } },
  daemon: { running: true },
  modules: { vxlan: true, nfTables: true },
  sysctls: { 'net/ipv4/ip_forward': '1', 'net/bridge/bridge-nf-call-iptables': '1' },
  forwardChains: [{ family: 'inet', table: 'tnet', chain: 'forward', policy: 'accept' }],
  tablePresent: true,
  forwardElements: [],
  routes: [],
  links: [],
  namespacesGone: new Set(),
});

const checks = (f: DoctorFacts): Check[] => diagnose(f).map((x) => x.check);

describe('doctor checks', () => {
  it('find nothing on a healthy host', () => {
    expect(diagnose(healthy())).toEqual([]);
  });

  it('name a kernel without nf_tables or vxlan', () => {
    const found = diagnose({ ...healthy(), modules: { vxlan: false, nfTables: false } });
    expect(found.map((f) => f.message)).toEqual([expect.stringContaining('nf_tables is not available'), expect.stringContaining('vxlan is not available')]);
  });

  it('name forwarding off only when a network needs it', () => {
    const off = { ...healthy(), sysctls: { 'net/ipv4/ip_forward': '0' } };
    expect(checks(off)).toEqual(['forwarding']);
    const internal = network({ name: 'db', internal: true });
    expect(checks({ ...off, records: { ok: true, networks: [internal], endpoints: [], cluster: { peers: new Map(), mode: 'store' } } })).toEqual([]);
  });

  it('name a dropping forward policy elsewhere, and with br_netfilter on, the same-bridge breakage too', () => {
    const drop = { ...healthy(), forwardChains: [...healthy().forwardChains, { family: 'ip', table: 'filter', chain: 'FORWARD', policy: 'drop' }] };
    expect(checks(drop)).toEqual(['forward-policy', 'br-netfilter']);
    expect(checks({ ...drop, sysctls: { 'net/ipv4/ip_forward': '1', 'net/bridge/bridge-nf-call-iptables': '0' } })).toEqual(['forward-policy']);
  });

  it('name an overlay whose MTU exceeds what the underlay carries', () => {
    const ov = network({ name: 'ov', driver: 'overlay', overlay: { vni: 5 }, mtu: 1450 });
    const f = { ...healthy(), records: { ok: true as const, networks: [ov], endpoints: [], cluster: { peers: new Map(), mode: 'store' as const } }, underlayMtu: 1400, tablePresent: false };
    expect(diagnose(f)).toEqual([expect.objectContaining({ check: 'overlay-mtu', message: expect.stringContaining('at most 1350') })]);
  });

  it('say when the store, the daemon or an endpoint\'s namespace is missing', () => {
    expect(checks({ ...healthy(), records: { ok: false, error: 'cannot reach etcd' }, daemon: { running: false } })).toEqual(['store', 'daemon']);
    expect(diagnose({ ...healthy(), namespacesGone: new Set([c1.id]) })).toEqual([
      expect.objectContaining({ check: 'namespace-gone', fix: `tnet disconnect web --netns ${c1.netns}` }),
    ]);
  });

  it('give a Docker endpoint whose container is gone Docker\'s way out, not tnet disconnect', () => {
    const owner = { kind: 'docker' as const, endpointId: 'e'.repeat(64), networkId: 'n'.repeat(64) };
    const dockerEp = { ...endpoint(web, '/var/run/docker/netns/0123456789ab', '10.1.0.3'), owner };
    const [found] = diagnose({ ...healthy(), records: { ok: true, networks: [web], endpoints: [dockerEp], cluster: { peers: new Map(), mode: 'store' } }, namespacesGone: new Set([dockerEp.id]) });
    expect(found?.message).toMatch(/^endpoint web\/\/var\/run\/docker\/netns\/0123456789ab \(Docker endpoint eeeeeeeeeeee\): the container's namespace is gone; /);
    for (const text of [found?.message, found?.fix]) {
      expect(text).not.toContain('tnet disconnect');
      expect(text).toContain("the tnet daemon removes it when it starts again (systemctl restart tnet) or when Docker gives 10.1.0.3 to another container; otherwise 'docker network disconnect -f web CONTAINER' or 'docker network rm web' removes it");
    }
  });

  it('name port-forward elements and a table no record explains', () => {
    const stray = { map: 'fwd4_any_port', key: ['tcp', 8080], value: 80, comment: 'tnet:0123456789ab:0123456789ab' };
    expect(checks({ ...healthy(), forwardElements: [stray] })).toEqual(['unexplained']);
    expect(checks({ ...healthy(), records: { ok: true, networks: [], endpoints: [], cluster: { peers: new Map(), mode: 'store' } } })).toEqual(['unexplained']);
  });
});
