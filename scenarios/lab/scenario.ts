/**
 * Scenario files (scenarios/*.scn): a header, then steps and checks, one per line. Pure parsing;
 * runner.ts executes them on a Backend. Grammar (# starts a comment):
 *   scenario TITLE            hosts N            store etcd|local       skip REASON
 *   container NAME on HOST                       a fresh namespace on HOST
 *   on HOST tnet ARGS…                           must succeed
 *   on HOST fails tnet|docker ARGS… ~ TEXT       must fail, stderr containing TEXT
 *   on HOST sh ARGS…                             any command in the host's namespace
 *   on HOST docker ARGS…                         the docker CLI against HOST's private dockerd, whose
 *                                                network driver `tnet` is HOST's daemon; must succeed
 *   docker-ping HOST DOCKER_CONTAINER -> B       ping from a Docker container on HOST; retried until true
 *   apply on HOST FILE                           tnet apply -f FILE (relative to the scenario)
 *   ping A -> B [ipv6] [size N df]   no-ping A -> B …   B is a container or an address; retried until true
 *   entries on HOST NETWORK has|lacks CONTAINER [ipv6]  the VXLAN FDB + ARP (NDP) entries for a remote container
 *   delete-neighbour on HOST NETWORK CONTAINER [ipv6]   deletes that ARP (NDP) entry by hand: drift to repair
 *     ipv6: the container's global IPv6 address instead of its IPv4 one.
 *   serve CONTAINER PORT [tcp|udp]               an echo server in CONTAINER (stopped at the end)
 *   tcp FROM -> TARGET:PORT [says TEXT]          a connection answers (with TEXT); retried until true
 *   no-tcp FROM -> TARGET:PORT                   nothing answers; also udp / no-udp
 *     FROM is a container or a host (hN: the host's own namespace); TARGET a container (its eth0
 *     address), a host (its underlay address) or an IPv4 address. The echo server answers
 *     "NAME CLIENT": the serving container and the client address it saw, so TEXT can name both.
 *   agent HOST stop|start     etcd HOST stop|start     wait SECONDS
 *   repeat N … end            the lines between, with {i} replaced by 1..N
 * In arguments, @NAME is container NAME's namespace as tnet takes it (--netns @a).
 */

import type { IpFamily } from '../../lib/model/types.js';

export type Step =
  | { readonly kind: 'container'; readonly name: string; readonly host: string }
  | { readonly kind: 'tnet'; readonly host: string; readonly args: readonly string[]; readonly fails?: string }
  | { readonly kind: 'sh'; readonly host: string; readonly argv: readonly string[] }
  | { readonly kind: 'docker'; readonly host: string; readonly args: readonly string[]; readonly fails?: string }
  | { readonly kind: 'dockerPing'; readonly host: string; readonly from: string; readonly to: string }
  | { readonly kind: 'apply'; readonly host: string; readonly file: string }
  | { readonly kind: 'ping'; readonly from: string; readonly to: string; readonly expect: boolean; readonly family: IpFamily; readonly size?: number; readonly df: boolean }
  | { readonly kind: 'entries'; readonly host: string; readonly network: string; readonly container: string; readonly present: boolean; readonly family: IpFamily }
  | { readonly kind: 'deleteNeighbour'; readonly host: string; readonly network: string; readonly container: string; readonly family: IpFamily }
  | { readonly kind: 'serve'; readonly container: string; readonly port: number; readonly proto: 'tcp' | 'udp' }
  | { readonly kind: 'connect'; readonly proto: 'tcp' | 'udp'; readonly from: string; readonly to: string; readonly port: number; readonly expect: boolean; readonly says?: string }
  | { readonly kind: 'process'; readonly what: 'agent' | 'etcd'; readonly host: string; readonly running: boolean }
  | { readonly kind: 'wait'; readonly seconds: number }
  /** From inside a container, NAME resolves (getent, so through its resolv.conf) to exactly these containers' IPv4 addresses; none: NXDOMAIN. */
  | { readonly kind: 'resolve'; readonly from: string; readonly name: string; readonly to: readonly string[] };

export interface Scenario {
  readonly title: string;
  readonly hosts: number;
  readonly store: 'etcd' | 'local';
  readonly skip?: string;
  /** Hosts some step runs docker on. */
  readonly docker: readonly string[];
  readonly steps: ReadonlyArray<Step & { readonly line: number; readonly text: string }>;
}

const words = (s: string): string[] => s.trim().split(/\s+/).filter((w) => w !== '');

/** An optional trailing `ipv6`; anything else there is a usage error (undefined). */
const familyWord = (w: string | undefined): IpFamily | undefined => (w === undefined ? 4 : w === 'ipv6' ? 6 : undefined);

/** Host names are h1, h2, …; a check's FROM/TARGET resolves a name like that to the host, never a container. */
export const isHostName = (name: string): boolean => /^h\d+$/.test(name);

const port = (s: string | undefined): number | undefined => {
  const n = Number(s);
  return s !== undefined && /^\d+$/.test(s) && n >= 1 && n <= 65535 ? n : undefined;
};

export const parseScenario = (text: string, file: string): Scenario => {
  const header: { title?: string; hosts: number; store: 'etcd' | 'local'; skip?: string } = { hosts: 3, store: 'etcd' };
  const steps: Array<Step & { line: number; text: string }> = [];
  const lines = text.split('\n').map((raw, i) => ({ n: i + 1, text: raw.replace(/(^|\s)#.*$/, '').trim() }));
  const bad = (n: number, why: string): Error => new Error(`${file}:${n}: ${why}`);

  const parseLine = (n: number, line: string): Step | undefined => {
    const w = words(line);
    const [k, a, b, c] = w;
    switch (k) {
      case 'scenario': header.title = line.slice('scenario'.length).trim(); return undefined;
      case 'hosts': header.hosts = Number(a); return undefined;
      case 'store': if (a !== 'etcd' && a !== 'local') throw bad(n, 'store is etcd or local'); header.store = a; return undefined;
      case 'skip': header.skip = line.slice('skip'.length).trim(); return undefined;
      case 'container':
        if (b !== 'on' || !a || !c) throw bad(n, 'expected: container NAME on HOST');
        if (isHostName(a)) throw bad(n, `container ${a}: names like h1 are hosts (checks could not tell them apart)`);
        return { kind: 'container', name: a, host: c };
      case 'on': {
        if (!a) throw bad(n, 'expected: on HOST tnet|fails|sh …');
        if (b === 'tnet') return { kind: 'tnet', host: a, args: w.slice(3) };
        if (b === 'sh') return { kind: 'sh', host: a, argv: w.slice(3) };
        if (b === 'docker') return { kind: 'docker', host: a, args: w.slice(3) };
        if (b === 'fails' && (c === 'tnet' || c === 'docker')) {
          const [cmd, expected] = line.slice(line.indexOf(` ${c} `) + c.length + 2).split(' ~ ');
          if (expected === undefined) throw bad(n, `expected: on HOST fails ${c} ARGS ~ TEXT`);
          return { kind: c, host: a, args: words(cmd ?? ''), fails: expected.trim() };
        }
        throw bad(n, `unknown action ${b ?? ''}`);
      }
      case 'docker-ping': {
        const [, host, from, arrow, to, ...rest] = w;
        if (!host || !from || arrow !== '->' || !to || rest.length > 0) throw bad(n, 'expected: docker-ping HOST DOCKER_CONTAINER -> B');
        return { kind: 'dockerPing', host, from, to };
      }
      case 'apply': if (a !== 'on' || !b || !c) throw bad(n, 'expected: apply on HOST FILE'); return { kind: 'apply', host: b, file: c };
      case 'ping':
      case 'no-ping': {
        if (b !== '->' || !a || !c) throw bad(n, `expected: ${k} A -> B [ipv6] [size N df]`);
        const i = w.indexOf('size');
        const size = i < 0 ? undefined : Number(w[i + 1]);
        const family = w.includes('ipv6') ? 6 : 4;
        return { kind: 'ping', from: a, to: c, expect: k === 'ping', family, df: w.includes('df'), ...(size === undefined ? {} : { size }) };
      }
      case 'entries': {
        const [, on, host, network, verb, container, fam, ...rest] = w;
        const family = familyWord(fam);
        if (on !== 'on' || !host || !network || (verb !== 'has' && verb !== 'lacks') || !container || family === undefined || rest.length > 0) {
          throw bad(n, 'expected: entries on HOST NETWORK has|lacks CONTAINER [ipv6]');
        }
        return { kind: 'entries', host, network, container, present: verb === 'has', family };
      }
      case 'delete-neighbour': {
        const [, on, host, network, container, fam, ...rest] = w;
        const family = familyWord(fam);
        if (on !== 'on' || !host || !network || !container || family === undefined || rest.length > 0) {
          throw bad(n, 'expected: delete-neighbour on HOST NETWORK CONTAINER [ipv6]');
        }
        return { kind: 'deleteNeighbour', host, network, container, family };
      }
      case 'serve': {
        const p = port(b);
        if (!a || p === undefined || (c !== undefined && c !== 'tcp' && c !== 'udp') || w.length > 4) throw bad(n, 'expected: serve CONTAINER PORT [tcp|udp]');
        if (isHostName(a)) throw bad(n, `serve ${a}: servers run in containers, not in a host's namespace`);
        return { kind: 'serve', container: a, port: p, proto: c ?? 'tcp' };
      }
      case 'tcp':
      case 'no-tcp':
      case 'udp':
      case 'no-udp': {
        const expect = !k.startsWith('no-');
        const usage = `expected: ${k} FROM -> TARGET:PORT${expect ? ' [says TEXT]' : ''}`;
        const m = /^(.*):([^:]*)$/.exec(c ?? '');
        const p = port(m?.[2]);
        if (b !== '->' || !a || !m?.[1] || p === undefined) throw bad(n, usage);
        const rest = w.slice(4);
        if (rest.length > 0 && (!expect || rest[0] !== 'says' || rest.length < 2)) throw bad(n, usage);
        const says = rest.length > 0 ? rest.slice(1).join(' ') : undefined;
        return { kind: 'connect', proto: k.endsWith('tcp') ? 'tcp' : 'udp', from: a, to: m[1], port: p, expect, ...(says === undefined ? {} : { says }) };
      }
      case 'agent':
      case 'etcd':
        if (!a || (b !== 'stop' && b !== 'start')) throw bad(n, `expected: ${k} HOST stop|start`);
        return { kind: 'process', what: k, host: a, running: b === 'start' };
      case 'wait': return { kind: 'wait', seconds: Number(a) };
      case 'resolve':
        if (!a || !b || c !== '->' || w.length < 5) throw bad(n, 'expected: resolve FROM NAME -> CONTAINER [CONTAINER…]');
        return { kind: 'resolve', from: a, name: b, to: w.slice(4) };
      case 'no-resolve':
        if (!a || !b || c !== undefined) throw bad(n, 'expected: no-resolve FROM NAME');
        return { kind: 'resolve', from: a, name: b, to: [] };
      default: throw bad(n, `unknown step ${JSON.stringify(k)}`);
    }
  };

  for (let i = 0; i < lines.length; i++) {
    const { n, text: line } = lines[i] ?? { n: 0, text: '' };
    if (line === '') continue;
    const w = words(line);
    if (w[0] === 'repeat') {
      const times = Number(w[1]);
      const end = lines.findIndex((l, j) => j > i && l.text === 'end');
      if (!Number.isInteger(times) || end < 0) throw bad(n, 'expected: repeat N … end');
      const body = lines.slice(i + 1, end).filter((l) => l.text !== '');
      for (let r = 1; r <= times; r++) {
        for (const l of body) {
          const t = l.text.replaceAll('{i}', String(r));
          const step = parseLine(l.n, t);
          if (step) steps.push({ ...step, line: l.n, text: t });
        }
      }
      i = end;
      continue;
    }
    const step = parseLine(n, line);
    if (step) steps.push({ ...step, line: n, text: line });
  }
  if (header.title === undefined) throw bad(1, 'a scenario needs a "scenario TITLE" line');
  const docker = [...new Set(steps.flatMap((st) => (st.kind === 'docker' || st.kind === 'dockerPing' ? [st.host] : [])))];
  return { title: header.title, hosts: header.hosts, store: header.store, ...(header.skip ? { skip: header.skip } : {}), docker, steps };
};
