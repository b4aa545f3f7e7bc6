/**
 * tnet's DNS server with real traffic: containers (namespaces of a lab host) ask their gateway,
 * the server runs in this process with its sockets in the lab host's namespace, and names outside
 * tnet are forwarded to fake upstream resolvers in the lab's "outside" namespace.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type App } from '../../lib/app.js';
import { startDnsService, type DnsService } from '../../lib/dns/service.js';
import { askDns, askDnsInBackground, askRaw, inNetnsAsync, startUpstream, type FakeUpstream } from '../helpers/dns.js';
import { createLabHost, OUTSIDE_V4, type LabHost } from '../helpers/lab-host.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { sh, tryRun } from '../helpers/sh.js';

const PREFIX = `${TT}dns`;
const WEB = '10.61.0.1';
const WEB6 = 'fd00:61::1';
const OTHER = '10.62.0.1';
const INTERNAL = '10.63.0.1';
const SECOND_UPSTREAM = '203.0.113.4';
const DEAD_UPSTREAM = '203.0.113.3';

let lab: LabHost;
let app: App;
let dns: DnsService;
let upstream: FakeUpstream;
let second: FakeUpstream;
let dead: FakeUpstream;
let hostResolvConf: string;
const log: string[] = [];
const ns = (name: string): string => `${lab.prefix}${name}`;
const answers = async (from: string, server: string, name: string, type = 'A'): Promise<string[]> => (await askDns(ns(from), server, [{ name, type }]))[0]?.answers ?? [];
const rcode = async (from: string, server: string, name: string, type = 'A'): Promise<string> => (await askDns(ns(from), server, [{ name, type }]))[0]?.rcode ?? '';

beforeAll(async () => {
  lab = createLabHost(PREFIX);
  for (const a of [DEAD_UPSTREAM, SECOND_UPSTREAM]) sh('ip', '-n', lab.outside, 'addr', 'add', `${a}/24`, 'dev', 'uplink');
  upstream = await startUpstream(lab.outside, OUTSIDE_V4, { 'example.test': '192.0.2.10', 'both.test': '192.0.2.11' });
  second = await startUpstream(lab.outside, SECOND_UPSTREAM, { 'example.test': '192.0.2.20', 'failover.test': '192.0.2.21' });
  dead = await startUpstream(lab.outside, DEAD_UPSTREAM, {}, { silent: true });
  await lab.ok('create', '--subnet', '10.61.0.0/24', '--ipv6', '--subnet', 'fd00:61::/64', 'web');
  await lab.ok('create', '--subnet', '10.62.0.0/24', 'other');
  await lab.ok('create', '--subnet', '10.63.0.0/24', '--internal', 'sealed');
  await lab.ok('create', '--subnet', '10.64.0.0/24', '--dns=false', 'quiet');
  await lab.ok('connect', 'web', '--netns', lab.container('c1'), '--alias', 'db', '--alias', 'pool');
  await lab.ok('connect', 'web', '--netns', lab.container('c2'), '--name', 'api', '--alias', 'pool');
  await lab.ok('connect', 'other', '--netns', lab.container('c3'));
  await lab.ok('connect', 'web', '--netns', lab.container('c4'));
  await lab.ok('connect', 'other', '--netns', ns('c4'));
  await lab.ok('connect', 'sealed', '--netns', lab.container('c5'));
  await lab.ok('connect', 'quiet', '--netns', lab.container('c6'));
  app = await openApp({ stateDir: lab.stateDir, hostNetns: lab.ns });
  hostResolvConf = join(lab.stateDir, 'host-resolv.conf');
  writeFileSync(hostResolvConf, `# the lab host's upstream\nnameserver ${OUTSIDE_V4}\n`);
  dns = await startDnsService(app.ctx, { resolvConf: hostResolvConf, log: (l) => log.push(l), forwarding: { attemptMs: 300, deadlineMs: 1_500, penaltyMs: 60_000 } });
}, 60_000);

afterAll(async () => {
  await dns?.stop();
  await app?.close();
  upstream?.stop();
  second?.stop();
  dead?.stop();
  lab?.destroy();
});

describe('names on a network', () => {
  it('listens on every DNS-enabled gateway, IPv4 and IPv6, and on no other', async () => {
    expect(dns.addresses().sort()).toEqual([WEB, OTHER, INTERNAL, WEB6].sort());
    const listening = sh('ip', 'netns', 'exec', lab.ns, 'ss', '-Hulnt');
    expect(listening).toContain(`${WEB}:53`);
    expect(listening).not.toContain('10.64.0.1:53');
  });

  it('resolves the namespace name, --name, aliases and NAME.NETWORK, A and AAAA', async () => {
    const r = await askDns(ns('c4'), WEB, [
      ns('c1'), 'api', 'db', `api.web`, `${ns('c1')}.web`, { name: 'api', type: 'AAAA' }, { name: 'API', type: 'A' },
    ]);
    expect(r.map((x) => x.answers)).toEqual([['10.61.0.2'], ['10.61.0.3'], ['10.61.0.2'], ['10.61.0.3'], ['10.61.0.2'], ['fd00:61::3'], ['10.61.0.3']]);
    expect(r.every((x) => x.rcode === 'NOERROR' && x.aa && x.replies === 1)).toBe(true);
    // The same over IPv6 to the IPv6 gateway.
    expect(await answers('c1', WEB6, 'api', 'AAAA')).toEqual(['fd00:61::3']);
  });

  it('a shared alias resolves to every holder; a name with no record of the type is NODATA', async () => {
    expect((await answers('c4', WEB, 'pool')).sort()).toEqual(['10.61.0.2', '10.61.0.3']);
    const [mx] = await askDns(ns('c4'), WEB, [{ name: 'api', type: 'MX' }]);
    expect(mx).toMatchObject({ rcode: 'NOERROR', answers: [] });
  });

  it('answers PTR for endpoint addresses, IPv4 and IPv6', async () => {
    expect(await answers('c4', WEB, '3.0.61.10.in-addr.arpa', 'PTR')).toEqual(['api.web']);
    const nibbles = 'fd000061000000000000000000000003'.split('').reverse().join('.');
    expect(await answers('c4', WEB, `${nibbles}.ip6.arpa`, 'PTR')).toEqual(['api.web']);
    expect(await rcode('c4', WEB, '99.0.61.10.in-addr.arpa', 'PTR')).toBe('NXDOMAIN');
  });

  it('a container sees only the names of its own networks, and is refused by other networks\' gateways', async () => {
    expect(await rcode('c3', OTHER, 'api')).toBe('NXDOMAIN');
    expect(await rcode('c3', OTHER, 'api.web')).toBe('NXDOMAIN');
    expect(await rcode('c3', WEB, 'api')).toBe('REFUSED');
    // c4 is on both: it sees both networks' names, whichever gateway it asks.
    expect(await answers('c4', OTHER, ns('c3'))).toEqual(['10.62.0.2']);
    expect(await answers('c4', WEB, ns('c3'))).toEqual(['10.62.0.2']);
    // The host itself (its own address as source) is no endpoint: refused.
    const [fromHost] = await askDns(lab.ns, WEB, ['api']);
    expect(fromHost?.rcode).toBe('REFUSED');
  });

  it('a name resolves right after connect returns and is NXDOMAIN right after disconnect returns', async () => {
    for (let i = 0; i < 3; i++) {
      await lab.ok('connect', 'web', '--netns', lab.container('c7'), '--name', `fresh${i}`);
      expect(await answers('c1', WEB, `fresh${i}`)).toHaveLength(1);
      await lab.ok('disconnect', 'web', '--netns', ns('c7'));
      expect(await rcode('c1', WEB, `fresh${i}`)).toBe('NXDOMAIN');
    }
  });

  it('refuses invalid and duplicate names at connect, naming the value', async () => {
    const bad = await lab.tnet('connect', 'web', '--netns', lab.container('c8'), '--name', 'no_good-');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/name "no_good-" is not a DNS name/);
    const dup = await lab.tnet('connect', 'web', '--netns', ns('c8'), '--name', 'api');
    expect(dup.code).toBe(5);
    expect(dup.err).toMatch(/name "api" is already taken on network web/);
    const alias = await lab.tnet('connect', 'web', '--netns', ns('c8'), '--alias', 'API');
    expect(alias.err).toMatch(/alias "API" is the name of/);
    expect(tryRun('ip', '-n', ns('c8'), 'link', 'show', 'eth0').status).not.toBe(0);
  });
});

describe('forwarding', () => {
  it('forwards other names to the host\'s upstream, from the host namespace, and caches the answer', async () => {
    const before = upstream.questions().length;
    expect(await answers('c1', WEB, 'example.test')).toEqual(['192.0.2.10']);
    const [again] = await askDns(ns('c4'), WEB, ['example.test']);
    expect(again).toMatchObject({ rcode: 'NOERROR', answers: ['192.0.2.10'], ra: true, aa: false });
    expect(upstream.questions().slice(before)).toEqual(['example.test A']);
    expect(await rcode('c1', WEB, 'missing.test')).toBe('NXDOMAIN');
  });

  it('an internal network resolves its own names and forwards nothing', async () => {
    const before = upstream.questions().length;
    expect(await answers('c5', INTERNAL, ns('c5'))).toEqual(['10.63.0.2']);
    const [r] = await askDns(ns('c5'), INTERNAL, ['both.test']);
    expect(r).toMatchObject({ rcode: 'NXDOMAIN', ra: false });
    expect(upstream.questions().slice(before)).toEqual([]);
  });

  it('re-reads the host resolv.conf, and fails over past a dead upstream, which it then skips', async () => {
    writeFileSync(hostResolvConf, `nameserver ${DEAD_UPSTREAM}\nnameserver ${SECOND_UPSTREAM}\n`);
    await new Promise((r) => setTimeout(r, 1_500)); // checked once a second
    const started = Date.now();
    expect(await answers('c1', WEB, 'failover.test')).toEqual(['192.0.2.21']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250); // the dead one's timeout
    expect(log.join('\n')).toContain(`upstream ${DEAD_UPSTREAM} did not answer`);
    expect(dead.questions()).toEqual(['failover.test (ignored)']);
    // Remembered as failing: the next name goes to the live one first; the dead one is not asked.
    const r = await askDns(ns('c1'), WEB, [{ name: 'other.failover.test' }, { name: 'api' }]);
    expect(r.map((x) => x.rcode)).toEqual(['NXDOMAIN', 'NOERROR']);
    expect(dead.questions()).toEqual(['failover.test (ignored)']);
    expect(second.questions()).toContain('other.failover.test A');
    writeFileSync(hostResolvConf, `nameserver ${OUTSIDE_V4}\n`);
    await new Promise((r) => setTimeout(r, 1_500));
  });

  it('a dead upstream never stalls local names', async () => {
    writeFileSync(hostResolvConf, `nameserver ${DEAD_UPSTREAM}\n`);
    await new Promise((r) => setTimeout(r, 1_500));
    const t = Date.now();
    const r = await askDns(ns('c1'), WEB, [{ name: 'slow.test' }, { name: 'api' }, { name: 'db' }], { waitMs: 3_000 });
    expect(r.map((x) => x.rcode)).toEqual(['SERVFAIL', 'NOERROR', 'NOERROR']);
    expect(Date.now() - t).toBeLessThan(5_000);
    writeFileSync(hostResolvConf, `nameserver ${OUTSIDE_V4}\n`);
    await new Promise((r) => setTimeout(r, 1_500));
  });
});

describe('resolv.conf of named namespaces', () => {
  it('is written on connect with the gateways, used by ip netns exec, and removed on disconnect', async () => {
    const file = `/etc/netns/${ns('c1')}/resolv.conf`;
    expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`^# Written by tnet[^]*nameserver ${WEB.replaceAll('.', '\\.')}\nnameserver ${WEB6}\n`));
    expect((await inNetnsAsync(ns('c1'), 'getent', 'hosts', 'api')).trim()).toMatch(/^(10\.61\.0\.3|fd00:61::3)\s+api$/);
    expect(await inNetnsAsync(ns('c4'), 'getent', 'ahostsv4', ns('c3'))).toContain('10.62.0.2');
    // A namespace on two networks lists both gateways, its first network's first.
    expect(readFileSync(`/etc/netns/${ns('c4')}/resolv.conf`, 'utf8')).toMatch(new RegExp(`nameserver ${WEB.replaceAll('.', '\\.')}\nnameserver ${OTHER.replaceAll('.', '\\.')}\n`));
    await lab.ok('connect', 'web', '--netns', lab.container('c9'));
    expect(existsSync(`/etc/netns/${ns('c9')}/resolv.conf`)).toBe(true);
    await lab.ok('disconnect', 'web', '--netns', ns('c9'));
    expect(existsSync(`/etc/netns/${ns('c9')}`)).toBe(false);
    // --dns=false: no file.
    expect(existsSync(`/etc/netns/${ns('c6')}/resolv.conf`)).toBe(false);
  });

  it('never overwrites or removes a resolv.conf tnet did not write', async () => {
    const dir = `/etc/netns/${ns('c10')}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 192.0.2.53\n');
    try {
      const out = await lab.ok('connect', 'web', '--netns', lab.container('c10'));
      expect(out).toContain('connected');
      expect(readFileSync(join(dir, 'resolv.conf'), 'utf8')).toBe('nameserver 192.0.2.53\n');
      await lab.ok('disconnect', 'web', '--netns', ns('c10'));
      expect(readFileSync(join(dir, 'resolv.conf'), 'utf8')).toBe('nameserver 192.0.2.53\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A query with this header and body, for bad-input cases. */
const message = (id: number, flags: number, qdcount: number, body: Buffer = Buffer.alloc(0)): Buffer => {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qdcount, 4);
  return Buffer.concat([h, body]);
};
const QUESTION_API = Buffer.from([3, 0x61, 0x70, 0x69, 0, 0, 1, 0, 1]); // api A IN

describe('bad input', () => {
  it('drops what cannot be answered and gives every other query one reply with the right rcode', async () => {
    const replies = await askRaw(ns('c1'), WEB, [
      message(1, 0x0100, 1, QUESTION_API), // fine
      message(2, 0x0100, 1, Buffer.from([3, 0x61, 0x70])), // truncated question
      message(3, 0x0100, 2, QUESTION_API), // two questions
      message(4, 0x2800, 1, QUESTION_API), // opcode 5 (UPDATE)
      message(5, 0x8100, 1, QUESTION_API), // a response: never answered
      Buffer.from([0, 6, 1]), // shorter than a header
      message(7, 0x0100, 1, Buffer.concat([QUESTION_API.subarray(0, 5), Buffer.from([0, 1, 0, 3])])), // class CHAOS
      message(8, 0x0100, 1, Buffer.concat([QUESTION_API.subarray(0, 5), Buffer.from([0xff, 0x00, 0, 1])])), // an unknown type
      message(9, 0x0100, 1, Buffer.concat([QUESTION_API, Buffer.alloc(5000)])), // oversized
    ]);
    expect(replies.map((r) => r.rcode)).toEqual(['NOERROR', 'FORMERR', 'FORMERR', 'NOTIMP', 'TIMEOUT', 'TIMEOUT', 'REFUSED', 'NOERROR', 'FORMERR']);
    expect(replies.map((r) => r.replies)).toEqual([1, 1, 1, 1, 0, 0, 1, 1, 1]);
  });

  it('a big answer is truncated over UDP (TC) and whole over TCP; TCP queries may be pipelined', async () => {
    for (let i = 0; i < 24; i++) await lab.ok('connect', 'web', '--netns', lab.container(`p${i}`), '--alias', 'pool');
    const [udp] = await askDns(ns('c1'), WEB, [{ name: 'pool', type: 'A' }]);
    expect(udp).toMatchObject({ tc: true, answers: [], replies: 1 });
    const [edns] = await askDns(ns('c1'), WEB, [{ name: 'pool', type: 'A' }], { edns: 4096 });
    expect(edns?.answers).toHaveLength(26);
    const tcp = await askDns(ns('c1'), WEB, [{ name: 'pool', type: 'A' }, { name: 'api' }, { name: 'example.test' }], { tcp: true });
    expect(tcp.map((r) => r.answers.length)).toEqual([26, 1, 1]);
    expect(tcp.every((r) => !r.tc && r.replies === 1)).toBe(true);
  }, 60_000);

  it('a flood of queries is answered once each and the server keeps serving', async () => {
    const flood = Array.from({ length: 2_000 }, (_, i) => ({ name: i % 2 === 0 ? 'api' : `n${i}.flood.test` }));
    const r = await askDns(ns('c1'), WEB, flood, { waitMs: 8_000 });
    // Sent at once, some are dropped (socket buffers): a flood may be. Each one answered is answered once, and rightly.
    expect(r.every((x) => x.replies <= 1)).toBe(true);
    const local = r.filter((x, i) => i % 2 === 0 && x.replies === 1);
    expect(local.length).toBeGreaterThan(100);
    expect(local.every((x) => x.rcode === 'NOERROR' && x.answers[0] === '10.61.0.3')).toBe(true);
    expect(r.filter((x, i) => i % 2 === 1 && x.replies === 1).every((x) => x.rcode === 'NXDOMAIN' || x.rcode === 'SERVFAIL')).toBe(true);
    expect(await answers('c1', WEB, 'api')).toEqual(['10.61.0.3']);
  }, 30_000);

  it('is not an open resolver: nothing listens on the host\'s other addresses', async () => {
    const [r] = await askDns(lab.outside, '203.0.113.1', ['api'], { waitMs: 800 });
    expect(r?.replies).toBe(0);
  });
});

describe('networks come and go under a running server', () => {
  it('keeps its listeners and answers every query meanwhile', async () => {
    // Namespaces first: making one blocks this process, which is also the server's.
    const containers = [0, 1, 2].map((i) => lab.container(`t${i}`));
    const client = askDnsInBackground(ns('c1'), WEB, 'api', 4_000);
    for (let i = 0; i < 3; i++) {
      await lab.ok('create', '--subnet', `10.7${i}.0.0/24`, `tmp${i}`);
      await lab.ok('connect', `tmp${i}`, '--netns', containers[i] ?? '');
      await dns.refresh();
      expect(dns.addresses()).toContain(`10.7${i}.0.1`);
      expect(await answers(`t${i}`, `10.7${i}.0.1`, ns(`t${i}`))).toEqual([`10.7${i}.0.2`]);
      await lab.ok('rm', '--force', `tmp${i}`);
    }
    await dns.refresh();
    expect(dns.addresses()).not.toContain('10.70.0.1');
    const { sent, failed } = await client;
    expect(sent).toBeGreaterThan(50);
    expect(failed).toBe(0);
  }, 60_000);
});
