/**
 * DNS from inside test namespaces: a client that asks a server questions (one node process for
 * many, over UDP or TCP, or raw bytes for bad input), and a fake upstream resolver for an
 * "outside" namespace that answers from a table and reports every question it got. Both are
 * child processes; traffic stays inside test namespaces; servers are stopped by PID.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const DNS_PACKET = createRequire(import.meta.url).resolve('dns-packet');

export interface DnsReply {
  readonly rcode: string;
  readonly answers: string[];
  readonly tc: boolean;
  readonly aa: boolean;
  readonly ra: boolean;
  /** Replies that arrived for this query (more than one would be a bug). */
  readonly replies: number;
}

const CLIENT = `
const dp = require(${JSON.stringify(DNS_PACKET)});
const { server, questions, tcp, edns, waitMs } = JSON.parse(process.argv[1]);
const six = server.includes(':');
const results = questions.map(() => ({ rcode: 'TIMEOUT', answers: [], tc: false, aa: false, ra: false, replies: 0 }));
const encode = (q, i) => q.raw !== undefined ? Buffer.from(q.raw, 'hex') : dp.encode({ type: 'query', id: i + 1, flags: dp.RECURSION_DESIRED,
  questions: [{ type: q.type, name: q.name, class: q.class || 'IN' }], additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: edns }] : [] });
const take = (m) => {
  if (m.length < 2) return;
  const i = m.readUInt16BE(0) - 1; const r = results[i]; if (r === undefined) return;
  r.replies++;
  try { const p = dp.decode(m); Object.assign(r, { rcode: p.rcode, answers: (p.answers || []).filter((a) => a.type !== 'OPT').map((a) => String(a.data)), tc: p.flag_tc, aa: p.flag_aa, ra: p.flag_ra }); }
  catch (e) { r.rcode = 'UNDECODABLE'; }
};
const finish = () => { process.stdout.write(JSON.stringify(results)); process.exit(0); };
setTimeout(finish, waitMs);
if (tcp) {
  const c = require('net').connect(53, server); let buf = Buffer.alloc(0);
  c.on('connect', () => questions.forEach((q, i) => { const m = encode(q, i); const l = Buffer.alloc(2); l.writeUInt16BE(m.length); c.write(Buffer.concat([l, m])); }));
  c.on('data', (d) => { buf = Buffer.concat([buf, d]); while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { take(buf.subarray(2, 2 + buf.readUInt16BE(0))); buf = buf.subarray(2 + buf.readUInt16BE(0)); } if (results.every((r) => r.replies > 0)) finish(); });
  c.on('error', () => finish());
} else {
  const s = require('dgram').createSocket(six ? 'udp6' : 'udp4');
  s.on('message', (m) => { take(m); if (results.every((r) => r.replies > 0) && !questions.some((q) => q.raw !== undefined)) finish(); });
  questions.forEach((q, i) => s.send(encode(q, i), 53, server));
}`;

export interface Question {
  readonly name: string;
  readonly type?: string;
  readonly class?: string;
}

export interface AskOptions {
  readonly tcp?: boolean;
  /** EDNS payload size to offer; none (plain 512-byte UDP) when absent. */
  readonly edns?: number;
  /** How long to wait for replies. */
  readonly waitMs?: number;
}

/** A command inside ns, without blocking this process; its stdout. */
export const inNetnsAsync = async (ns: string, cmd: string, ...args: string[]): Promise<string> =>
  (await promisify(execFile)('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', maxBuffer: 16 << 20 })).stdout;

const runClient = async (ns: string, server: string, questions: readonly unknown[], o: AskOptions, defaultWait: number): Promise<DnsReply[]> =>
  JSON.parse(await inNetnsAsync(ns, 'node', '-e', CLIENT, JSON.stringify({ server, questions, tcp: o.tcp ?? false, edns: o.edns, waitMs: o.waitMs ?? defaultWait }))) as DnsReply[];

/** Asks server each question from inside ns; one reply per question, in order. */
export const askDns = (ns: string, server: string, questions: ReadonlyArray<Question | string>, o: AskOptions = {}): Promise<DnsReply[]> =>
  runClient(ns, server, questions.map((q) => (typeof q === 'string' ? { name: q, type: 'A' } : { type: 'A', ...q })), o, 4_000);

/**
 * Sends raw messages (each gets its index + 1 as id when long enough to carry one) and waits the
 * whole time, so late or extra replies are counted too.
 */
export const askRaw = (ns: string, server: string, messages: readonly Buffer[], o: AskOptions = {}): Promise<DnsReply[]> =>
  runClient(ns, server, messages.map((m) => ({ raw: m.toString('hex') })), o, 1_500);

const UPSTREAM = `
const dp = require(${JSON.stringify(DNS_PACKET)});
const { address, records, silent, delayMs } = JSON.parse(process.argv[1]);
const reply = (m) => {
  const q = dp.decode(m); const question = q.questions[0]; const name = question.name.toLowerCase();
  process.stdout.write('Q ' + name + ' ' + question.type + '\\n');
  const data = records[name];
  return dp.encode({ type: 'response', id: q.id, flags: dp.RECURSION_DESIRED | dp.RECURSION_AVAILABLE | (data === undefined ? 3 : 0), questions: q.questions,
    answers: data === undefined || question.type !== 'A' ? [] : [].concat(data).map((d) => ({ type: 'A', name: question.name, ttl: 300, data: d })),
    authorities: data === undefined ? [{ type: 'SOA', name: 'test', ttl: 60, data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } }] : [] });
};
const later = (f) => (delayMs > 0 ? setTimeout(f, delayMs) : f());
const u = require('dgram').createSocket(address.includes(':') ? 'udp6' : 'udp4');
u.on('message', (m, r) => { if (!silent) later(() => u.send(reply(m), r.port, r.address)); else process.stdout.write('Q ' + dp.decode(m).questions[0].name.toLowerCase() + ' (ignored)\\n'); });
u.bind(53, address, () => {
  require('net').createServer((c) => { let b = Buffer.alloc(0); c.on('data', (d) => { b = Buffer.concat([b, d]); if (b.length >= 2 + b.readUInt16BE(0)) { const out = reply(b.subarray(2, 2 + b.readUInt16BE(0))); const l = Buffer.alloc(2); l.writeUInt16BE(out.length); c.end(Buffer.concat([l, out])); } }); })
    .listen(53, address, () => process.stdout.write('listening\\n'));
});`;

export interface FakeUpstream {
  /** "name TYPE" of every question received so far. */
  questions(): string[];
  stop(): void;
}

/** A resolver on address:53 in ns answering A questions from `records` (name -> address(es)), NXDOMAIN otherwise. */
export const startUpstream = async (
  ns: string,
  address: string,
  records: Readonly<Record<string, string | readonly string[]>>,
  o: { readonly silent?: boolean; readonly delayMs?: number } = {},
): Promise<FakeUpstream> => {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'node', '-e', UPSTREAM, JSON.stringify({ address, records, silent: o.silent ?? false, delayMs: o.delayMs ?? 0 })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening')) resolve();
    });
    child.on('exit', () => reject(new Error('fake upstream exited before listening')));
  });
  return {
    questions: () => out.split('\n').filter((l) => l.startsWith('Q ')).map((l) => l.slice(2)),
    stop: () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    },
  };
};

/**
 * Asks one name in a loop for ms from inside ns; counts queries without a NOERROR answer within
 * 3 s (a server in the test's own process is blocked whenever the test runs a command).
 */
export const askDnsInBackground = async (netns: string, server: string, name: string, ms: number): Promise<{ sent: number; failed: number }> => {
  const script = `const dp = require(${JSON.stringify(DNS_PACKET)}); const s = require('dgram').createSocket('udp4');
let sent = 0, failed = 0, waiting = null;
const one = () => new Promise((res) => { const id = (sent % 65000) + 1; sent++; const t = setTimeout(() => { failed++; res(); }, 3000);
  waiting = (m) => { if (m.readUInt16BE(0) !== id) return; clearTimeout(t); const p = dp.decode(m); if (p.rcode !== 'NOERROR' || (p.answers||[]).length !== 1) failed++; res(); };
  s.send(dp.encode({ type: 'query', id, flags: dp.RECURSION_DESIRED, questions: [{ type: 'A', name: ${JSON.stringify(name)} }] }), 53, ${JSON.stringify(server)}); });
s.on('message', (m) => waiting && waiting(m));
(async () => { const end = Date.now() + ${ms}; while (Date.now() < end) await one(); console.log(JSON.stringify({ sent, failed })); process.exit(0); })();`;
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, 'node', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => {
      try {
        resolve(JSON.parse(out) as { sent: number; failed: number });
      } catch (e) {
        reject(e);
      }
    });
  });
};
