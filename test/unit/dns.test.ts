import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { decide } from '../../lib/dns/answer.js';
import { agedRecords, createAnswerCache } from '../../lib/dns/cache.js';
import { encodeReply, headerReply, maxResponseBytes, parseQuery, RCODE, type Query } from '../../lib/dns/message.js';
import { isOurResolvConf, nameserversOf, renderResolvConf } from '../../lib/dns/resolv-conf.js';
import { addressOfReverseName } from '../../lib/dns/reverse.js';
import { createUpstreamPolicy } from '../../lib/dns/upstreams.js';
import { buildZone } from '../../lib/dns/zone.js';
import { defaultNameOfNetns, dnsNameProblem, nameClash } from '../../lib/model/dns-name.js';
import type { Endpoint, Network } from '../../lib/model/types.js';
import { endpoint, network } from './fixtures.js';

const query = (name: string, type = 'A', extra: Partial<dnsPacket.Packet> = {}): Buffer =>
  dnsPacket.encode({ type: 'query', id: 42, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as 'A' }], ...extra });
const parsed = (raw: Buffer): Query => {
  const p = parseQuery(raw);
  if (p.kind !== 'query') throw new Error(`not a query: ${p.kind}`);
  return p.query;
};
const decoded = (raw: Buffer) => dnsPacket.decode(raw) as dnsPacket.DecodedPacket & { rcode: string };

describe('DNS names', () => {
  it.each(['web', 'web-1', 'a_b', 'db.internal', 'x'.repeat(63), `${'a'.repeat(63)}.${'b'.repeat(63)}`])('accepts %s', (n) => {
    expect(dnsNameProblem(n)).toBeUndefined();
  });
  it.each([
    ['', /empty/], ['-web', /label "-web"/], ['web-', /label "web-"/], ['a..b', /empty label/], ['web.', /empty label/],
    ['x'.repeat(64), /63 are allowed per label/], ['a b', /label "a b"/], [`${'a.'.repeat(127)}a`, /253 are allowed/],
  ])('refuses %j', (n, why) => {
    expect(dnsNameProblem(n)).toMatch(why);
  });
  it('defaults to the /run/netns name when it is a DNS name', () => {
    expect(defaultNameOfNetns('/run/netns/c1')).toBe('c1');
    expect(defaultNameOfNetns('/run/netns/bad_name-')).toBeUndefined();
    expect(defaultNameOfNetns('/proc/42/ns/net')).toBeUndefined();
  });
  it('a name is one endpoint\'s on its network; aliases may be shared but not take a name', () => {
    const peers = [{ netns: '/run/netns/a', name: 'api', aliases: ['pool'] }];
    expect(nameClash({ name: 'API', aliases: [] }, peers, 'web')).toMatch(/name "API" is already taken on network web by \/run\/netns\/a/);
    expect(nameClash({ name: 'pool', aliases: [] }, peers, 'web')).toMatch(/already taken/);
    expect(nameClash({ name: 'b', aliases: ['pool'] }, peers, 'web')).toBeUndefined();
    expect(nameClash({ name: 'b', aliases: ['api'] }, peers, 'web')).toMatch(/alias "api" is the name of \/run\/netns\/a/);
  });
});

describe('messages', () => {
  it('parses a query with its EDNS size', () => {
    const q = parsed(query('Web', 'AAAA', { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as dnsPacket.Answer] }));
    expect(q).toMatchObject({ id: 42, rd: true, question: { name: 'Web', type: 'AAAA', class: 'IN' }, edns: { udpSize: 4096, dnssecOk: false } });
    expect(maxResponseBytes(q, 'udp')).toBe(1232);
    expect(maxResponseBytes(parsed(query('web')), 'udp')).toBe(512);
    expect(maxResponseBytes(q, 'tcp')).toBe(65535);
  });

  it('drops what it cannot or must not answer, and answers the rest of bad input with an rcode', () => {
    expect(parseQuery(Buffer.from([1, 2, 3])).kind).toBe('drop');
    const response = query('web');
    response.writeUInt16BE(response.readUInt16BE(2) | 0x8000, 2);
    expect(parseQuery(response).kind).toBe('drop');
    const rcodeOf = (raw: Buffer): number => {
      const p = parseQuery(raw);
      if (p.kind !== 'reply') throw new Error(p.kind);
      expect(p.response.readUInt16BE(0)).toBe(raw.readUInt16BE(0));
      return p.response.readUInt16BE(2) & 0xf;
    };
    expect(rcodeOf(query('web').subarray(0, 15))).toBe(RCODE.formErr);
    const two = query('web');
    two.writeUInt16BE(2, 4);
    expect(rcodeOf(two)).toBe(RCODE.formErr);
    const update = query('web');
    update.writeUInt16BE(0x2800, 2);
    expect(rcodeOf(update)).toBe(RCODE.notImp);
    expect(rcodeOf(dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }] }))).toBe(RCODE.refused);
    expect(rcodeOf(Buffer.concat([query('web'), Buffer.alloc(5000)]))).toBe(RCODE.formErr);
  });

  it('a header reply keeps id, opcode and RD', () => {
    const r = headerReply(query('web'), RCODE.refused);
    expect(r.length).toBe(12);
    expect(decoded(r)).toMatchObject({ id: 42, flag_qr: true, flag_rd: true, rcode: 'REFUSED' });
  });

  it('a reply too big for the asker carries the question alone, with TC', () => {
    const q = parsed(query('pool'));
    const answers = Array.from({ length: 40 }, (_, i): dnsPacket.Answer => ({ type: 'A', name: 'pool', ttl: 0, data: `10.0.0.${i + 1}` }));
    const small = decoded(encodeReply(q, { rcode: RCODE.noError, answers, authoritative: true, recursionAvailable: true }, 512));
    expect(small).toMatchObject({ flag_tc: true, answers: [], questions: [{ name: 'pool' }] });
    const big = decoded(encodeReply(q, { rcode: RCODE.noError, answers, authoritative: true, recursionAvailable: true }, 65535));
    expect(big.flag_tc).toBe(false);
    expect(big.answers).toHaveLength(40);
  });
});

describe('reverse names', () => {
  it('reads IPv4 and IPv6 PTR names and refuses malformed ones', () => {
    expect(addressOfReverseName('2.0.61.10.in-addr.arpa')).toBe('10.61.0.2');
    expect(addressOfReverseName(`${'fd000061000000000000000000000003'.split('').reverse().join('.')}.IP6.ARPA`)).toBe('fd00:61::3');
    expect(addressOfReverseName('0.61.10.in-addr.arpa')).toBeUndefined();
    expect(addressOfReverseName('256.0.61.10.in-addr.arpa')).toBeUndefined();
    expect(addressOfReverseName('01.0.61.10.in-addr.arpa')).toBeUndefined();
    expect(addressOfReverseName('x.ip6.arpa')).toBeUndefined();
  });
});

const web = { ...network({ name: 'web' }), ipv6: { subnet: 'fd00:1::/64', gateway: 'fd00:1::1' } } satisfies Network;
const db = network({ name: 'db', ipv4: { subnet: '10.2.0.0/24', gateway: '10.2.0.1' } });
const sealed = { ...network({ name: 'sealed', ipv4: { subnet: '10.3.0.0/24', gateway: '10.3.0.1' } }), internal: true };
const quiet = { ...network({ name: 'quiet', ipv4: { subnet: '10.4.0.0/24', gateway: '10.4.0.1' } }), dnsEnabled: false };
const ep = (n: Network, netns: string, ipv4: string, more: Partial<Endpoint> = {}): Endpoint => ({ ...endpoint(n, netns, ipv4), ...more });
const endpoints = [
  ep(web, '/run/netns/c1', '10.1.0.2', { name: 'c1', aliases: ['pool'], ipv6: 'fd00:1::2' }),
  ep(web, '/run/netns/c2', '10.1.0.3', { name: 'api', aliases: ['pool'] }),
  ep(web, '/run/netns/c9', '10.1.0.9', { name: 'going', phase: 'removing' }),
  ep(web, '/run/netns/c8', '10.1.0.8', { name: 'coming', phase: 'creating' }),
  ep(db, '/run/netns/c2', '10.2.0.2', { name: 'api-db' }),
  ep(db, '/run/netns/c3', '10.2.0.3', { name: 'store' }),
  ep(sealed, '/run/netns/c4', '10.3.0.2', { name: 'vault' }),
  ep(quiet, '/run/netns/c5', '10.4.0.2', { name: 'hush' }),
];
const zone = buildZone([web, db, sealed, quiet], endpoints);

describe('the zone', () => {
  it('listens on the gateways of DNS-enabled networks', () => {
    expect([...zone.listeners]).toEqual([['10.1.0.1', 'web'], ['fd00:1::1', 'web'], ['10.2.0.1', 'db'], ['10.3.0.1', 'sealed']]);
  });

  it('knows an asker by its address on the listener\'s network, with all of its namespace\'s networks', () => {
    expect(zone.askerOf('10.1.0.3', 'web')).toEqual({ networks: ['web', 'db'], forwards: true });
    expect(zone.askerOf('10.1.0.3', 'db')).toBeUndefined();
    expect(zone.askerOf('10.1.0.1', 'web')).toBeUndefined();
    expect(zone.askerOf('10.3.0.2', 'sealed')).toEqual({ networks: ['sealed'], forwards: false });
    expect(zone.askerOf('10.1.0.9', 'web')).toBeUndefined(); // being removed
  });

  it('looks names up in the asker\'s networks only, NAME.NETWORK too', () => {
    const c1 = zone.askerOf('10.1.0.2', 'web');
    const c2 = zone.askerOf('10.1.0.3', 'web');
    if (c1 === undefined || c2 === undefined) throw new Error('askers');
    expect(zone.lookup(c1, 'API').holders.map((h) => h.ipv4)).toEqual(['10.1.0.3']);
    expect(zone.lookup(c1, 'store')).toEqual({ holders: [], authoritative: true });
    expect(zone.lookup(c2, 'store').holders.map((h) => h.ipv4)).toEqual(['10.2.0.3']);
    expect(zone.lookup(c1, 'api.web').holders.map((h) => h.ipv4)).toEqual(['10.1.0.3']);
    expect(zone.lookup(c1, 'nobody.web')).toEqual({ holders: [], authoritative: true });
    expect(zone.lookup(c1, 'store.db')).toEqual({ holders: [], authoritative: false });
    expect(zone.lookup(c1, 'pool').holders.map((h) => h.ipv4)).toEqual(['10.1.0.2', '10.1.0.3']);
    expect(zone.lookup(c1, 'going').holders).toEqual([]);
    expect(zone.lookup(c1, 'coming').holders).toEqual([]);
    expect(zone.lookup(c1, 'example.com')).toEqual({ holders: [], authoritative: false });
  });

  it('answers PTR from the asker\'s networks', () => {
    const c1 = zone.askerOf('10.1.0.2', 'web');
    if (c1 === undefined) throw new Error('asker');
    expect(zone.reverse(c1, '10.1.0.3').holder).toMatchObject({ name: 'api', network: 'web' });
    expect(zone.reverse(c1, '10.1.0.77')).toEqual({ authoritative: true });
    expect(zone.reverse(c1, '10.2.0.3')).toEqual({ authoritative: false });
  });
});

describe('decisions', () => {
  const c1 = zone.askerOf('10.1.0.2', 'web');
  const vault = zone.askerOf('10.3.0.2', 'sealed');
  if (c1 === undefined || vault === undefined) throw new Error('askers');
  const reply = (d: ReturnType<typeof decide>) => {
    if (d.kind !== 'reply') throw new Error(d.kind);
    return decoded(d.response);
  };
  it('answers A, AAAA, NODATA and PTR locally, authoritatively', () => {
    expect(reply(decide(zone, parsed(query('c1')), c1, 'udp', false))).toMatchObject({ rcode: 'NOERROR', flag_aa: true, flag_ra: true, answers: [{ type: 'A', name: 'c1', data: '10.1.0.2', ttl: 0 }] });
    expect(reply(decide(zone, parsed(query('c1', 'AAAA')), c1, 'udp', false)).answers).toMatchObject([{ data: 'fd00:1::2' }]);
    expect(reply(decide(zone, parsed(query('api', 'AAAA')), c1, 'udp', false))).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(reply(decide(zone, parsed(query('3.0.1.10.in-addr.arpa', 'PTR')), c1, 'udp', false)).answers).toMatchObject([{ type: 'PTR', data: 'api.web' }]);
  });
  it('a tnet name nobody holds is a miss first (the zone is refreshed), NXDOMAIN once final', () => {
    expect(decide(zone, parsed(query('nobody')), c1, 'udp', false)).toEqual({ kind: 'miss' });
    expect(reply(decide(zone, parsed(query('nobody')), c1, 'udp', true))).toMatchObject({ rcode: 'NXDOMAIN', flag_aa: true });
  });
  it('forwards other names, unless the asker is on internal networks only', () => {
    expect(decide(zone, parsed(query('example.com')), c1, 'udp', false)).toEqual({ kind: 'forward' });
    expect(reply(decide(zone, parsed(query('example.com')), vault, 'udp', false))).toMatchObject({ rcode: 'NXDOMAIN', flag_ra: false });
    expect(decide(zone, parsed(query('4.3.2.1.in-addr.arpa', 'PTR')), c1, 'udp', false)).toEqual({ kind: 'forward' });
  });
});

describe('upstreams and the cache', () => {
  it('tries a failed upstream last until its penalty is over', () => {
    let t = 0;
    const p = createUpstreamPolicy(() => t, 1_000);
    expect(p.order(['a', 'b', 'c'])).toEqual(['a', 'b', 'c']);
    p.failed('a');
    expect(p.order(['a', 'b', 'c'])).toEqual(['b', 'c', 'a']);
    t = 1_000;
    expect(p.order(['a', 'b', 'c'])).toEqual(['a', 'b', 'c']);
    p.failed('b');
    p.answered('b');
    expect(p.order(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('keeps answers within their TTL, counting it down; negative ones by their SOA; not failures', () => {
    let t = 0;
    const cache = createAnswerCache(() => t, 2, 3_600);
    const answer = decoded(dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'a.test', type: 'A' }], answers: [{ type: 'A', name: 'a.test', ttl: 10, data: '192.0.2.1' }] }));
    cache.put('a', answer);
    t = 4_500;
    const hit = cache.get('a');
    expect(hit?.age).toBe(4);
    expect(agedRecords(hit?.packet.answers, hit?.age ?? 0)).toMatchObject([{ ttl: 6 }]);
    t = 10_000;
    expect(cache.get('a')).toBeUndefined();
    const soa = { type: 'SOA', name: 'test', ttl: 60, data: { mname: 'ns', rname: 'h', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 5 } } as dnsPacket.Answer;
    cache.put('nx', decoded(dnsPacket.encode({ type: 'response', id: 1, flags: 3, questions: [{ name: 'n.test', type: 'A' }], authorities: [soa] })));
    expect(cache.get('nx')).toBeDefined();
    t = 15_001;
    expect(cache.get('nx')).toBeUndefined();
    cache.put('fail', decoded(dnsPacket.encode({ type: 'response', id: 1, flags: 2, questions: [{ name: 'f.test', type: 'A' }], answers: [{ type: 'A', name: 'f.test', ttl: 60, data: '192.0.2.2' }] })));
    expect(cache.get('fail')).toBeUndefined();
    cache.put('x', answer);
    cache.put('y', answer);
    cache.put('z', answer);
    expect(cache.size).toBe(2);
    expect(cache.get('x')).toBeUndefined();
  });
});

describe('resolv.conf', () => {
  it('reads nameservers as glibc does, in order, skipping what is not an address', () => {
    expect(nameserversOf('# x\nsearch lan\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nnameserver bogus\nnameserver 127.0.0.53\n  nameserver   10.0.0.1  \n')).toEqual(['127.0.0.53', 'fe80::1', '10.0.0.1']);
  });
  it('writes at most three nameservers under tnet\'s mark', () => {
    const text = renderResolvConf(['10.1.0.1', '10.2.0.1', 'fd00::1', '10.3.0.1']);
    expect(text.match(/^nameserver /gm)).toHaveLength(3);
    expect(isOurResolvConf(text)).toBe(true);
    expect(isOurResolvConf('nameserver 1.1.1.1\n')).toBe(false);
  });
});
