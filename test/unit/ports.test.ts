import { describe, expect, it } from 'vitest';
import { formatPortMapping, parsePortList, parsePortSpec } from '../../lib/model/ports.js';
import { forwardsOf, elementsOf, elementsOfListed, addElementCommands } from '../../lib/firewall/forwards.js';
import { desiredHost } from '../../lib/reconcile/desired.js';
import { planForwards } from '../../lib/reconcile/plan-forwards.js';
import { endpoint, network } from './fixtures.js';

const bad = (spec: string, message: RegExp): void => {
  expect(() => parsePortSpec(spec, '-p')).toThrow(message);
};

describe('parsePortSpec', () => {
  it('reads Docker syntax: ports, ranges, host addresses (IPv6 bracketed) and protocols', () => {
    expect(parsePortSpec('8080:80', '-p')).toEqual([{ protocol: 'tcp', hostPort: 8080, containerPort: 80 }]);
    expect(parsePortSpec('127.0.0.1:53:5353/UDP', '-p')).toEqual([{ protocol: 'udp', hostIp: '127.0.0.1', hostPort: 53, containerPort: 5353 }]);
    expect(parsePortSpec('[::1]:8080:80', '-p')).toEqual([{ protocol: 'tcp', hostIp: '::1', hostPort: 8080, containerPort: 80 }]);
    expect(parsePortSpec('[2001:DB8::0001]:1-2:11-12/sctp', '-p').map(formatPortMapping)).toEqual(['[2001:db8::1]:1:11/sctp', '[2001:db8::1]:2:12/sctp']);
    expect(parsePortSpec(':8080:80', '-p')).toEqual([{ protocol: 'tcp', hostPort: 8080, containerPort: 80 }]);
  });

  it('refuses every bad input, naming the value and what is allowed', () => {
    bad('0:80', /-p: "0:80": host port 0 is out of range; expected 1-65535/);
    bad('80:65536', /container port 65536 is out of range; expected 1-65535/);
    bad('abc:80', /host port "abc" is not a port number; expected 1-65535/);
    bad('80', /a host port is required/);
    bad('::1:80:80', /IPv6 host address must be in brackets/);
    bad('1.2.3:80:80', /host address "1.2.3" is not an IPv4 address or a bracketed IPv6 address/);
    bad('[1.2.3.4]:80:80', /not an IPv4 address or a bracketed IPv6/);
    bad('90-80:90-80', /host port range 90-80 ends before it starts/);
    bad('80-:80', /"80-" is not a port or a range; expected PORT or FIRST-LAST/);
    bad('1-2-3:1-2-3', /is not a port or a range/);
    bad('1000-1003:80-82', /host range 1000-1003 and container range 80-82 have different lengths/);
    bad('80:80/icmp', /protocol "icmp" is not allowed; expected tcp, udp, sctp/);
    bad('80:80/tcp/udp', /more than one '\/'/);
    bad('1-20000:1-20000', /has 20000 ports; at most 10000 are allowed/);
    bad('[::1]80:80', /is not a port mapping/);
  });

  it('refuses a host side given twice in one list, and a list that is not one', () => {
    expect(() => parsePortList(['8080:80', '8080:81'], 'ports')).toThrow(/ports\[1\]: tcp \*:8080 is published twice/);
    expect(parsePortList(['8080:80', '8080:80/udp'], 'ports')).toHaveLength(2);
    expect(() => parsePortList('8080:80', 'ports')).toThrow(/expected a list of port mappings/);
  });
});

const web = network({ name: 'web', ipv6: { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' } });
const withPorts = (ns: string, ip: string, specs: string[]) => ({ ...endpoint(web, ns, ip), ipv6: ip.replace('10.1.0.', 'fd00:1::'), ports: parsePortList(specs, 'p') });

describe('port forwards as map elements', () => {
  it('publishes an unbound mapping on both families, a bound one on its own; 0.0.0.0 means every IPv4 address', () => {
    const e = withPorts('/run/netns/a', '10.1.0.2', ['8080:80', '127.0.0.1:9090:90', '0.0.0.0:7070:70/udp']);
    const fs = forwardsOf(web, e);
    expect(fs.map((f) => `${f.family} ${f.protocol} ${f.hostIp ?? '*'}:${f.hostPort} -> ${f.target}:${f.targetPort}`)).toEqual([
      '4 tcp *:8080 -> 10.1.0.2:80', '6 tcp *:8080 -> fd00:1::2:80', '4 tcp 127.0.0.1:9090 -> 10.1.0.2:90', '4 udp *:7070 -> 10.1.0.2:70',
    ]);
    expect(elementsOf(fs[2]!).map((x) => [x.map, x.key, x.value])).toEqual([
      ['fwd4_addr', ['tcp', '127.0.0.1', 9090], '10.1.0.2'], ['fwd4_port', ['tcp', '127.0.0.1', 9090], 90],
    ]);
  });

  it('reads back what it writes (element comments carry the owner)', () => {
    const els = forwardsOf(web, withPorts('/run/netns/a', '10.1.0.2', ['8080:80'])).flatMap(elementsOf);
    const listed = addElementCommands(els).map((c) => {
      const el = (c as { add: { element: { name: string; elem: unknown[] } } }).add.element;
      return { map: { name: el.name, elem: el.elem } };
    });
    expect(listed.flatMap(elementsOfListed)).toEqual(els);
  });

  const a = withPorts('/run/netns/a', '10.1.0.2', ['8080:80']);
  const b = withPorts('/run/netns/b', '10.1.0.3', ['9090:90']);
  const all = forwardsOf(web, a).concat(forwardsOf(web, b)).flatMap(elementsOf);

  it('a full pass adds only what is missing and deletes only what nobody wants, element by element', () => {
    const stale = { map: 'fwd4_any_addr', key: ['tcp', 1], value: '10.1.0.9', comment: 'tnet:x' };
    const plan = planForwards(desiredHost([web], [a, b]), 'all', [], [...all.slice(1), stale]);
    expect(plan.action?.add).toEqual([all[0]]);
    expect(plan.action?.remove).toEqual([stale]);
    expect(planForwards(desiredHost([web], [a, b]), 'all', [], all).action).toBeUndefined();
  });

  it('a scoped pass writes only the in-scope endpoint and forgets released forwards nobody else wants', () => {
    // b keeps 9090 and adds 9091: the released old record's 9090 is still wanted, so it stays.
    const b2 = { ...b, ports: parsePortList(['9090:90', '9091:91'], 'p') };
    const plan = planForwards(desiredHost([web], [a, b2]), { endpoints: new Set([b.id]) }, forwardsOf(web, b), undefined);
    expect(plan.action?.add).toEqual(forwardsOf(web, b2).flatMap(elementsOf));
    expect(plan.action?.forget).toEqual([]);
    const gone = planForwards(desiredHost([web], [b]), { endpoints: new Set<string>() }, forwardsOf(web, a), undefined);
    expect(gone.action?.forget).toEqual(forwardsOf(web, a).flatMap(elementsOf));
  });

  it('reports two endpoints claiming one host port as a problem', () => {
    const twin = withPorts('/run/netns/c', '10.1.0.4', ['8080:81']);
    expect(planForwards(desiredHost([web], [a, twin]), 'all', [], []).problems[0]).toMatch(/tcp \*:8080 \(IPv4\) is published by both web\/\/run\/netns\/a and web\/\/run\/netns\/c/);
  });
});
