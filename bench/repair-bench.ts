/**
 * Drift repair latency of `tnet daemon`: for each kind of damage (bridge deleted, host veth
 * deleted, nft table flushed, one port-forward element deleted, a container's address flushed,
 * ip_forward off), the time from the damage until the kernel is right again, p50/p95 over
 * TNET_BENCH_TRIALS (30) trials, with 1 and 500 endpoints attached (TNET_BENCH_LEVELS), and the
 * daemon's CPU while idle. The daemon runs as its own process (dist/bin/tnet.cjs daemon); this
 * process does the damage through its own netlink and libnftables sessions (so it is not the
 * daemon's own change) and polls the kernel the same way. Everything runs in a throwaway host
 * namespace. Run: node dist/bench/repair-bench.js   (as root, after bin/setup.sh)
 * TNET_BENCH_DRIFTS (names, comma-separated, e.g. "bridge deleted") runs only those kinds;
 * TNET_BENCH_PREFIX (default tnr) names the namespaces, so two runs can share a machine;
 * TNET_BENCH_DAEMON_LOG=FILE keeps the daemon's log (its passes, with their times, and the
 * bench's damage and "right again" among them); TNET_BENCH_DAEMON_NODE_ARGS passes options to the
 * daemon's node (e.g. "--cpu-prof --cpu-prof-dir=DIR": a profile is written when it stops).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openApp, type App } from '../lib/app.js';
import { queryDaemon } from '../lib/daemon/control.js';
import { signatureOfListed } from '../lib/firewall/encode.js';
import { createNamedNetns, deleteNamedNetns } from '../lib/kernel/netns.js';
import type { Kernel, NetlinkSession } from '../lib/kernel/types.js';
import { bridgeNameFor, hostVethNameFor } from '../lib/model/names.js';
import type { Endpoint, Network } from '../lib/model/types.js';
import { connect } from '../lib/service/endpoints.js';
import { createNetwork } from '../lib/service/networks.js';
import { printTable, quantile, runBench } from './report.js';

const PREFIX = process.env['TNET_BENCH_PREFIX'] ?? 'tnr';
const levels = (process.env['TNET_BENCH_LEVELS'] ?? '1,500').split(',').map(Number);
const trials = Number(process.env['TNET_BENCH_TRIALS'] ?? '30');
const idleSeconds = Number(process.env['TNET_BENCH_IDLE_SECONDS'] ?? '30');
const onlyDrifts = process.env['TNET_BENCH_DRIFTS']?.split(',').map((d) => d.trim());
const daemonLogFile = process.env['TNET_BENCH_DAEMON_LOG'];
const daemonNodeArgs = (process.env['TNET_BENCH_DAEMON_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
/** Between trials, so one repair's echoes are over before the next damage (and the daemon's flap guard is not what is measured). */
const SPACING_MS = 300;
const TIMEOUT_MS = 30_000;

const host = `${PREFIX}-host`;
const stateDir = mkdtempSync(join(tmpdir(), 'tnet-bench-'));
const cli = join(import.meta.dirname, '..', 'bin', 'tnet.cjs');
const made: string[] = [];
let daemon: ChildProcess | undefined;
let daemonLog = '';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const netns = (name: string): string => {
  const full = `${PREFIX}-${name}`;
  createNamedNetns(full).close();
  made.push(full);
  return full;
};

const startDaemon = (): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...daemonNodeArgs, cli, '--host-netns', host, '--state-dir', stateDir, 'daemon', '--roles', 'repair'], { stdio: ['ignore', 'ignore', 'pipe'] });
    daemonLog = '';
    child.stderr.on('data', (d: Buffer) => {
      daemonLog += d.toString();
      if (daemonLogFile !== undefined) appendFileSync(daemonLogFile, d);
      if (daemonLog.includes('tnet daemon (pid')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`daemon exited with ${code}: ${daemonLog}`)));
  });

/** Until the daemon's first full pass is done and nothing is pending (asked on its control socket). */
const settled = async (): Promise<void> => {
  for (;;) {
    const repair = (await queryDaemon(stateDir))?.['repair'] as { passes?: number; pending?: string } | undefined;
    if ((repair?.passes ?? 0) > 0 && repair?.pending === undefined) return;
    await sleep(200);
  }
};

/** utime + stime of a process, in seconds. */
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

interface Probe {
  readonly network: Network;
  readonly endpoint: Endpoint;
  readonly container: NetlinkSession;
  readonly size: number;
  /** A few ports' veth names, spread over all of them (see 'bridge deleted'). */
  readonly sample: readonly string[];
}

interface Drift {
  readonly name: string;
  damage(k: Kernel, p: Probe): Promise<void>;
  /** Whether the kernel is right again. */
  right(k: Kernel, p: Probe): Promise<boolean>;
}

const bridgeOk = async (k: Kernel, p: Probe): Promise<number | undefined> => {
  const bridge = await k.host.getLink(bridgeNameFor(p.network));
  if (bridge === undefined || !bridge.up) return undefined;
  const addresses = await k.host.listAddresses(4);
  return addresses.some((a) => a.linkIndex === bridge.index && a.address === p.network.ipv4?.gateway) ? bridge.index : undefined;
};

const probeAttached = async (k: Kernel, p: Probe): Promise<boolean> => {
  const veth = await k.host.getLink(hostVethNameFor(p.endpoint.id));
  const bridge = await k.host.getLink(bridgeNameFor(p.network));
  if (veth === undefined || bridge === undefined || veth.masterIndex !== bridge.index || !veth.up) return false;
  const [addresses, routes] = await Promise.all([p.container.listAddresses(4), p.container.listRoutes(4)]);
  return addresses.some((a) => a.address === p.endpoint.ipv4) && routes.some((r) => r.destination === '0.0.0.0/0');
};

const PORT_ELEMENT = 'fwd4_any_port { tcp . 8080 }';
/** Listing the map (one element) is cheaper than a `get element` that fails (~10 ms each). */
const elementPresent = (k: Kernel): boolean =>
  (k.nft.listSet('inet', 'tnet', 'fwd4_any_port', 'map') ?? []).some((item) => JSON.stringify(item).includes('8080'));
const tableSignature = (k: Kernel): string | undefined => {
  const items = k.nft.listTable('inet', 'tnet', { elements: false });
  return items === undefined ? undefined : signatureOfListed(items);
};

const DRIFTS = (converged: string): Drift[] => [
  {
    name: 'bridge deleted',
    damage: async (k, p) => {
      const b = await k.host.getLink(bridgeNameFor(p.network));
      if (b !== undefined) await k.host.deleteLink(b.index);
    },
    // Right again = the bridge with its address, and every endpoint's veth on it. A dump of 500
    // links costs this process 30-60 ms of CPU, which the daemon and the kernel need meanwhile: it
    // runs only once a sample of the ports is on the bridge, and it alone decides.
    right: async (k, p) => {
      const index = await bridgeOk(k, p);
      if (index === undefined) return false;
      for (const name of p.sample) if ((await k.host.getLink(name))?.masterIndex !== index) return false;
      const ports = (await k.host.listLinks()).filter((l) => l.name.startsWith('tnv') && l.masterIndex === index);
      return ports.length === p.size;
    },
  },
  {
    name: 'host veth deleted',
    damage: async (k, p) => {
      const v = await k.host.getLink(hostVethNameFor(p.endpoint.id));
      if (v !== undefined) await k.host.deleteLink(v.index);
    },
    right: probeAttached,
  },
  {
    name: 'table flushed',
    damage: async (k) => void k.nft.run('flush ruleset'),
    right: async (k) => tableSignature(k) === converged && elementPresent(k),
  },
  {
    name: 'element deleted',
    damage: async (k) => void k.nft.run(`delete element inet tnet ${PORT_ELEMENT}`),
    right: async (k) => elementPresent(k),
  },
  {
    name: 'container address flushed',
    damage: async (_k, p) => {
      const eth0 = await p.container.getLink('eth0');
      for (const a of await p.container.listAddresses(4)) {
        if (a.linkIndex === eth0?.index) await p.container.deleteAddress(a.linkIndex, a.family, a.address, a.prefixLength);
      }
    },
    right: probeAttached,
  },
  {
    name: 'forwarding off',
    damage: async (k) => k.writeSysctl(k.hostNetns, 'net/ipv4/ip_forward', '0'),
    right: async (k) => k.readSysctl(k.hostNetns, 'net/ipv4/ip_forward') === '1',
  },
];

/** In the daemon's log (TNET_BENCH_DAEMON_LOG), where the bench's own steps fall among its passes. */
const mark = (what: string): void => {
  if (daemonLogFile !== undefined) appendFileSync(daemonLogFile, `${new Date().toISOString()} BENCH ${what}\n`);
};

/**
 * Per trial: from the damage until right again, from the damage's completion until right again
 * (the measure: the kernel's own time to delete a bridge with 500 ports is not the
 * daemon's), and how long the damage call itself took.
 */
const measure = async (k: Kernel, p: Probe, drift: Drift): Promise<{ total: number[]; after: number[]; damage: number[] }> => {
  const total: number[] = [];
  const after: number[] = [];
  const damage: number[] = [];
  for (let i = 0; i < trials; i++) {
    if (!(await drift.right(k, p))) throw new Error(`${drift.name}: not right before the damage`);
    // From the damage until the kernel is right again; it includes the kernel's own time to do the
    // damage (deleting a veth waits for RCU, tens of ms here), during which the daemon already works.
    mark(`${drift.name}, trial ${i + 1}: damage`);
    const t0 = performance.now();
    await drift.damage(k, p);
    const t1 = performance.now();
    damage.push(t1 - t0);
    mark(`${drift.name}, trial ${i + 1}: damage done`);
    for (;;) {
      if (await drift.right(k, p)) break;
      if (performance.now() - t0 > TIMEOUT_MS) {
        throw new Error(`${drift.name}: not repaired within ${TIMEOUT_MS} ms (trial ${i + 1}); the daemon's log ends:\n${daemonLog.split('\n').slice(-15).join('\n')}`);
      }
      await new Promise((r) => setImmediate(r));
    }
    const t2 = performance.now();
    total.push(t2 - t0);
    after.push(t2 - t1);
    mark(`${drift.name}, trial ${i + 1}: right again after ${(t2 - t1).toFixed(1)} ms`);
    await sleep(SPACING_MS);
  }
  return { total, after, damage };
};

const main = async (): Promise<void> => {
  createNamedNetns(host).close();
  made.push(host);
  let app: App | undefined;
  const rows: string[][] = [];
  const idle: string[] = [];
  try {
    app = await openApp({ stateDir, hostNetns: host });
    const network = await createNetwork(app.ctx, { name: 'bench', driver: 'bridge', ipv4: { subnet: '10.201.0.0/20' } });
    const probeNs = netns('probe');
    const endpoint = await connect(app.ctx, { network: 'bench', netns: probeNs, ports: [{ protocol: 'tcp', hostPort: 8080, containerPort: 80 }] });
    const handle = app.ctx.kernel.openNetns(probeNs);
    const container = app.ctx.kernel.sessionIn(handle);
    handle.close();
    let attached = 1;
    for (const size of levels) {
      while (attached < size) await connect(app.ctx, { network: 'bench', netns: netns(`f${attached++}`) });
      daemon = await startDaemon();
      await settled();
      const pid = daemon.pid ?? 0;
      const cpu0 = cpuSeconds(pid);
      await sleep(idleSeconds * 1000);
      idle.push(`${size} endpoint(s): ${(((cpuSeconds(pid) - cpu0) / idleSeconds) * 100).toFixed(2)} % of one core over ${idleSeconds} s idle`);
      const veths = (await app.ctx.kernel.host.listLinks()).filter((l) => l.name.startsWith('tnv')).map((l) => l.name);
      const sample = veths.filter((_, i) => i % Math.ceil(veths.length / 8) === 0 || i === veths.length - 1);
      const probe: Probe = { network, endpoint, container, size, sample };
      const converged = tableSignature(app.ctx.kernel) ?? '';
      for (const drift of DRIFTS(converged).filter((d) => onlyDrifts === undefined || onlyDrifts.includes(d.name))) {
        const { total: t, after, damage } = await measure(app.ctx.kernel, probe, drift);
        const ms = (xs: number[], q: number): string => quantile(xs, q).toFixed(1);
        rows.push([String(size), drift.name, ms(after, 0.5), ms(after, 0.95), Math.max(...after).toFixed(1), ms(t, 0.5), ms(t, 0.95), ms(damage, 0.5)]);
        console.error(`  ${size} endpoint(s), ${drift.name}: p50 ${ms(after, 0.5)} ms after the damage (${ms(t, 0.5)} ms with it)`);
      }
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon?.once('exit', r));
      daemon = undefined;
    }
    container.close();
  } finally {
    daemon?.kill('SIGKILL');
    await app?.close();
  }
  console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (2 cores; other jobs share the machine)`);
  printTable(['endpoints', 'damage', 'after the damage p50 ms', 'p95 ms', 'max ms', 'with the damage p50 ms', 'p95 ms', 'the damage call itself p50 ms'], rows);
  console.log(`\nidle CPU of the daemon:\n  ${idle.join('\n  ')}`);
  console.log([
    '\nanchors (documented behaviour, not measured here):',
    '  Docker: never repairs; rules and bridges come back only when dockerd restarts (moby#15254)',
    '  netavark: never repairs; `netavark firewall-reload` (or restarting the container) puts its rules back (netavark#230)',
    '  flannel: re-applies its iptables rules every 5 s (up to 5 s for a flushed rule; links are not repaired)',
  ].join('\n'));
  for (const r of rows) console.log(`RESULT repair n=${r[0]} drift="${r[1]}" p50_ms=${r[2]} p95_ms=${r[3]} with_damage_p50_ms=${r[5]} with_damage_p95_ms=${r[6]}`);
};

const cleanup = (): void => {
  daemon?.kill('SIGKILL');
  for (const ns of made.reverse()) deleteNamedNetns(ns);
  made.length = 0;
  rmSync(stateDir, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}
runBench(main, cleanup);
