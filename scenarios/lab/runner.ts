/**
 * Runs a parsed scenario on a Backend. Checks (ping, entries) are retried until they hold or a
 * deadline passes, because other hosts converge through their agents; steps fail at once.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Backend, CommandResult, Started } from './backend.js';
import { answerSays, echoClientArgv, echoServerArgv } from './echo.js';
import type { IpFamily } from '../../lib/model/types.js';
import { isHostName, type Scenario, type Step } from './scenario.js';
import { hostAddress, hostIndex } from './topology.js';

export interface ScenarioReport {
  readonly title: string;
  readonly skipped?: string;
  readonly ok: boolean;
  readonly failure?: string;
  readonly steps: number;
  readonly ms: number;
}

export interface RunOptions {
  /** How long a check may take to become true (convergence through agents). */
  readonly checkTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

interface ContainerInfo { host: string; ref: string; ip?: string; ip6?: string; mac?: string }

export const runScenario = async (backend: Backend, s: Scenario, file: string, o: RunOptions = {}): Promise<ScenarioReport> => {
  const started = Date.now();
  if (s.skip !== undefined) return { title: s.title, skipped: s.skip, ok: true, steps: 0, ms: 0 };
  const { docker } = backend;
  if (s.docker.length > 0 && docker === undefined) return { title: s.title, skipped: `the ${backend.name} backend runs no dockerd`, ok: true, steps: 0, ms: 0 };
  const timeout = o.checkTimeoutMs ?? 10_000;
  const containers = new Map<string, ContainerInfo>();
  const vxlanDevs = new Map<string, string>();
  /** Every process a step started; all are stopped (by PID, through their handles) when the scenario ends. */
  const processes: Started[] = [];

  const container = (name: string): ContainerInfo => {
    const c = containers.get(name);
    if (!c) throw new Error(`no container ${name} (declare it with: container ${name} on HOST)`);
    return c;
  };
  const expand = (args: readonly string[]): string[] => args.map((a) => (a.startsWith('@') ? container(a.slice(1)).ref : a));
  const must = (what: string, r: CommandResult): CommandResult => {
    if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.err.trim() || r.out.trim()}`);
    return r;
  };
  /** Without `fails` the command must succeed; with it, fail with that text in its stderr. */
  const outcome = (what: string, r: CommandResult, fails: string | undefined): void => {
    if (fails === undefined) must(what, r);
    else if (r.code === 0) throw new Error(`expected ${what} to fail, but it succeeded: ${r.out.trim()}`);
    else if (!r.err.includes(fails)) throw new Error(`expected an error containing ${JSON.stringify(fails)}, got: ${r.err.trim()}`);
  };
  /** The container's eth0 addresses and MAC, remembered so 'lacks' can be checked after it left. */
  const refresh = async (name: string): Promise<ContainerInfo> => {
    const c = container(name);
    const r = await backend.execIn(c.host, name, ['ip', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']);
    const l = await backend.execIn(c.host, name, ['ip', '-o', 'link', 'show', 'dev', 'eth0']);
    const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(r.out)?.[1];
    const ip6 = /inet6 ([0-9a-f:]+)\//.exec(r.out)?.[1];
    const mac = /link\/ether ([0-9a-f:]{17})/.exec(l.out)?.[1];
    if (ip) c.ip = ip;
    if (ip6) c.ip6 = ip6;
    if (mac) c.mac = mac;
    return c;
  };
  /** A container's address of the family (refreshed), or a literal address as it is. */
  const addressOf = async (to: string, family: IpFamily): Promise<string | undefined> => {
    if (IPV4.test(to) || to.includes(':')) return to;
    const c = await refresh(to);
    return family === 4 ? c.ip : c.ip6;
  };
  const vxlanDev = async (host: string, network: string): Promise<string> => {
    const key = `${host}/${network}`;
    const known = vxlanDevs.get(key);
    if (known) return known;
    const r = must(`tnet inspect ${network} on ${host}`, await backend.tnet(host, ['inspect', network, '--json']));
    const id = (JSON.parse(r.out) as Array<{ network: { id: string } }>)[0]?.network.id ?? '';
    const dev = `tnvx-${id.slice(0, 10)}`;
    vxlanDevs.set(key, dev);
    return dev;
  };
  /** A remote container's MAC and address of the family, and the VXLAN device its entries are on. */
  const neighbourOf = async (st: { host: string; network: string; container: string; family: IpFamily }): Promise<{ mac: string; ip: string; dev: string }> => {
    const c = await refresh(st.container);
    const ip = st.family === 4 ? c.ip : c.ip6;
    if (!c.mac || !ip) throw new Error(`container ${st.container} has no eth0 IPv${st.family} address to look for`);
    return { mac: c.mac, ip, dev: await vxlanDev(st.host, st.network) };
  };
  const eventually = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + timeout;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${what}: still not true after ${timeout} ms`);
      await sleep(100);
    }
  };

  /** An address to connect to: a host's underlay address, a container's eth0 address, or a literal. */
  const targetAddress = async (to: string): Promise<string | undefined> =>
    isHostName(to) ? hostAddress(hostIndex(to)) : IPV4.test(to) ? to : (await refresh(to)).ip;
  /** The echo client's answer from FROM (a host's own namespace or a container), or undefined. */
  const ask = async (from: string, proto: 'tcp' | 'udp', address: string, port: number): Promise<string | undefined> => {
    const argv = echoClientArgv(proto, address, port);
    const r = isHostName(from) ? await backend.exec(from, argv) : await backend.execIn(container(from).host, from, argv);
    return r.code === 0 && r.out.trim() !== '' ? r.out.trim() : undefined;
  };

  const step = async (st: Step): Promise<void> => {
    switch (st.kind) {
      case 'container':
        containers.set(st.name, { host: st.host, ref: await backend.addContainer(st.host, st.name) });
        return;
      case 'tnet':
        outcome(`tnet ${st.args.join(' ')} on ${st.host}`, await backend.tnet(st.host, expand(st.args)), st.fails);
        return;
      case 'sh':
        must(st.argv.join(' '), await backend.exec(st.host, expand(st.argv)));
        return;
      case 'docker':
        if (docker !== undefined) outcome(`docker ${st.args.join(' ')} on ${st.host}`, await docker.call(backend, st.host, st.args), st.fails);
        return;
      case 'dockerPing':
        await eventually(`ping from Docker container ${st.from} on ${st.host} -> ${st.to}`, async () => {
          const to = await addressOf(st.to, 4);
          return to !== undefined && docker !== undefined && (await docker.call(backend, st.host, ['exec', st.from, 'ping', '-c', '1', '-W', '1', to])).code === 0;
        });
        return;
      case 'apply': {
        let text = readFileSync(resolve(dirname(file), st.file), 'utf8');
        for (const [name, c] of containers) text = text.replaceAll(`@${name}`, c.ref);
        const path = await backend.writeFile(st.host, st.file.replace(/[^\w.-]/g, '_'), text);
        must(`apply ${st.file} on ${st.host}`, await backend.tnet(st.host, ['apply', '-f', path]));
        return;
      }
      case 'ping': {
        const from = container(st.from);
        const size = st.size === undefined ? [] : ['-s', String(st.size)];
        const df = st.df ? ['-M', 'do'] : [];
        await eventually(`${st.expect ? 'ping' : 'no ping'} ${st.from} -> ${st.to}${st.family === 6 ? ' (IPv6)' : ''}`, async () => {
          const to = await addressOf(st.to, st.family);
          if (to === undefined) return false;
          const r = await backend.execIn(from.host, st.from, ['ping', '-c', '1', '-W', '1', ...df, ...size, to]);
          return (r.code === 0) === st.expect;
        });
        return;
      }
      case 'entries': {
        const { mac, ip, dev } = await neighbourOf(st);
        await eventually(`entries on ${st.host} for ${st.container} ${st.present ? 'present' : 'absent'}`, async () => {
          const fdb = (await backend.exec(st.host, ['bridge', 'fdb', 'show', 'dev', dev])).out;
          const neigh = (await backend.exec(st.host, ['ip', `-${st.family}`, 'neigh', 'show', 'dev', dev])).out;
          const has = [fdb.includes(`${mac} dst`), neigh.split('\n').some((l) => l.startsWith(`${ip} `) && l.includes(mac))];
          return st.present ? has.every(Boolean) : !has.some(Boolean);
        });
        return;
      }
      case 'deleteNeighbour': {
        const { ip, dev } = await neighbourOf(st);
        must(`deleting ${ip} on ${dev} on ${st.host}`, await backend.exec(st.host, ['ip', `-${st.family}`, 'neigh', 'del', ip, 'dev', dev]));
        return;
      }
      case 'serve': {
        const c = container(st.container);
        processes.push(await backend.startIn(c.host, st.container, echoServerArgv(st.container, st.port, st.proto)));
        // Listening before the next step, or a following no-tcp check would pass for the wrong reason.
        await eventually(`${st.proto} server in ${st.container} on port ${st.port}`, async () => (await ask(st.container, st.proto, '127.0.0.1', st.port)) !== undefined);
        return;
      }
      case 'connect': {
        let last: string | undefined;
        const what = `${st.expect ? '' : 'no '}${st.proto} ${st.from} -> ${st.to}:${st.port}${st.says === undefined ? '' : ` saying ${JSON.stringify(st.says)}`}`;
        try {
          await eventually(what, async () => {
            const to = await targetAddress(st.to);
            if (to === undefined) return false;
            last = await ask(st.from, st.proto, to, st.port);
            const answered = last !== undefined && (st.says === undefined || answerSays(last, st.says));
            return st.expect ? answered : last === undefined;
          });
        } catch (e) {
          throw new Error(`${(e as Error).message}; last answer: ${last === undefined ? 'none' : JSON.stringify(last)}`);
        }
        return;
      }
      case 'process':
        if (st.what === 'agent') await backend.setAgent(st.host, st.running);
        else await backend.setEtcd(st.host, st.running);
        return;
      case 'wait':
        await sleep(st.seconds * 1000);
        return;
      case 'resolve': {
        const from = container(st.from);
        let last = '';
        const want = async (): Promise<string[]> => (await Promise.all(st.to.map((t) => addressOf(t, 4)))).filter((x) => x !== undefined).sort();
        try {
          await eventually(`${st.to.length === 0 ? 'no ' : ''}resolve ${st.name} from ${st.from}`, async () => {
            const r = await backend.execIn(from.host, st.from, ['getent', 'ahostsv4', st.name]);
            last = r.code === 0 ? r.out : `exit ${r.code}`;
            const got = [...new Set(r.code === 0 ? r.out.split('\n').map((l) => l.split(/\s+/)[0] ?? '').filter((x) => x !== '') : [])].sort();
            return JSON.stringify(got) === JSON.stringify(await want());
          });
        } catch (e) {
          throw new Error(`${(e as Error).message}; last answer: ${JSON.stringify(last)}`);
        }
        return;
      }
    }
  };

  const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
  let failure: string | undefined;
  let done = 0;
  try {
    await backend.prepare({ hosts: s.hosts, store: s.store, ...(s.docker.length > 0 ? { docker: s.docker } : {}) });
  } catch (e) {
    failure = `preparing the hosts: ${message(e)}`;
  }
  for (const st of failure === undefined ? s.steps : []) {
    o.log?.(`  ${file}:${st.line}: ${st.text}`);
    try {
      await step(st);
    } catch (e) {
      failure = `${file}:${st.line}: ${st.text}\n    ${message(e)}`;
      break;
    }
    done++;
  }
  // Servers first, each by its own PID, whether the scenario passed or not.
  await Promise.allSettled(processes.splice(0).map((p) => p.stop()));
  try {
    await backend.cleanup();
  } catch (e) {
    failure ??= `cleaning up: ${message(e)}`;
  }
  return { title: s.title, ok: failure === undefined, ...(failure === undefined ? {} : { failure }), steps: done, ms: Date.now() - started };
};
