/**
 * Overlay bench on the netns lab (3 hosts, 3-member etcd, agents):
 *  - convergence: `tnet connect` of a new container on h1 until a container on h3 gets a ping
 *    answer from it (p50/p95 over TNET_BENCH_TRIALS, default 50; goal p95 <= 200 ms). The connect
 *    runs through the lab's host shell (the real CLI code in a warm process), so node's ~0.5 s
 *    cold start is not counted; the prober's ARP retransmit time is lowered to 10 ms so the
 *    figure is tnet's propagation, not the kernel's 1 s ARP retry.
 *  - throughput: iperf3 TCP between a container on h1 and one on h3 over the overlay, between two
 *    container-like namespaces on h1 and h3 joined by a hand-built VXLAN (vxlan device per host,
 *    static FDB, bridge + veth, container MTU 1450: what the overlay should come close to), and
 *    between the h1 and h3 host namespaces over the plain underlay veths; interleaved round-robin
 *    in the same run, p50 over TNET_BENCH_IPERF_REPS, printed beside the reference anchors.
 *    The hand-built VXLAN is built here with `ip`/`bridge` (a benchmark may shell out; lib/ may
 *    not), every name carries the bench's prefix, and it is removed at the end even on failure.
 * Run: node dist/bench/overlay-bench.js   (as root, after bin/setup.sh --test)
 * TNET_BENCH_CONVERGENCE_ONLY=1 skips the throughput part (it is skipped anyway without iperf3);
 * TNET_BENCH_PREFIX (default tnob) names the lab's namespaces, so two runs can share a machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createNetnsLab, run } from '../scenarios/lab/netns-lab.js';
import { hostAddress } from '../scenarios/lab/topology.js';
import { printTable, quantile, runBench } from './report.js';

const trials = Number(process.env['TNET_BENCH_TRIALS'] ?? '50');
const seconds = Number(process.env['TNET_BENCH_IPERF_SECONDS'] ?? '5');
const reps = Number(process.env['TNET_BENCH_IPERF_REPS'] ?? '3');
const PREFIX = process.env['TNET_BENCH_PREFIX'] ?? 'tnob';
const lab = createNetnsLab({ prefix: PREFIX });

const ok = async (host: string, ...args: string[]): Promise<string> => {
  const r = await lab.tnet(host, args);
  if (r.code !== 0) throw new Error(`tnet ${args.join(' ')} on ${host}: ${r.err}`);
  return r.out;
};

/**
 * Pings `ip` from a namespace every 5 ms until the first answer; resolves with the time it was
 * seen. One ping process that keeps sending: an echo lost on the way (the route across the tunnel
 * is there before the container on the other side is) must not hold the next one back, as a
 * one-packet ping waiting out its timeout would. ping flushes each reply line as it prints it.
 */
const firstReply = (ns: string, ip: string): { answered: Promise<number>; stop: () => void } => {
  // No -w: with a deadline ping stops at the first "host unreachable", which it gets until then.
  const child = spawn('ip', ['netns', 'exec', ns, 'ping', '-n', '-i', '0.005', '-c', '2000', ip], { stdio: ['ignore', 'pipe', 'ignore'] });
  const answered = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (l.includes(' bytes from ')) resolve(performance.now());
    });
    child.on('exit', () => reject(new Error(`no answer from ${ip}`)));
  });
  answered.catch(() => undefined);
  return { answered, stop: () => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGTERM') };
};

/** How long the connect command itself took, per trial (the rest is propagation to h3). */
const connectTimes: number[] = [];

const convergence = async (): Promise<number[]> => {
  await ok('h1', 'create', '--driver', 'overlay', '--subnet', '10.90.0.0/24', '--vni', '9000', 'bench');
  const prober = await lab.addContainer('h3', 'probe');
  await ok('h3', 'connect', 'bench', '--netns', prober);
  await run(['ip', 'netns', 'exec', prober, 'sysctl', '-qw', 'net.ipv4.neigh.eth0.retrans_time_ms=10']);
  const times: number[] = [];
  for (let i = 0; i < trials; i++) {
    const ip = `10.90.0.${10 + i}`;
    const ns = await lab.addContainer('h1', `t${i}`);
    await run(['ip', '-n', prober, 'neigh', 'flush', 'all']);
    const ping = firstReply(prober, ip);
    const t0 = performance.now();
    try {
      await ok('h1', 'connect', 'bench', '--netns', ns, '--ip', ip);
      connectTimes.push(performance.now() - t0);
      times.push((await ping.answered) - t0);
    } finally {
      ping.stop();
    }
    await ok('h1', 'disconnect', 'bench', '--netns', ns);
  }
  return times;
};

const iperf = (serverNs: string, clientNs: string, ip: string): number => {
  const server = spawn('ip', ['netns', 'exec', serverNs, 'iperf3', '-s', '-1', '-p', '5299'], { stdio: 'ignore' });
  try {
    spawnSync('sleep', ['0.3']);
    const r = spawnSync('ip', ['netns', 'exec', clientNs, 'iperf3', '-c', ip, '-p', '5299', '-t', String(seconds), '-J'], { encoding: 'utf8', timeout: (seconds + 20) * 1000 });
    const bps = (JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } }).end?.sum_received?.bits_per_second;
    return (bps ?? NaN) / 1e9;
  } finally {
    if (server.pid !== undefined && server.exitCode === null) process.kill(server.pid, 'SIGTERM');
  }
};

const must = async (argv: readonly string[]): Promise<void> => {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.err.trim()}`);
};

/**
 * The hand-built VXLAN between h1 and h3, as an operator would set it up without tnet: on each
 * host a vxlan device (VNI 4242, dstport 4789, no learning) with a static all-zeros FDB entry to
 * the other host's VTEP, a bridge, and a veth into a container-like namespace with MTU 1450 on
 * 10.91.0.0/24. Every namespace and device name starts with the bench's prefix.
 */
const HAND_VNI = '4242';
const HAND_SUBNET = '10.91.0';
const handHosts = [{ host: 'h1', index: 1, peer: 3 }, { host: 'h3', index: 3, peer: 1 }] as const;
const handNetns = (host: string): string => `${PREFIX}-hv-${host}`;
const handAddress = (index: number): string => `${HAND_SUBNET}.${index}`;
const HAND_VX = `${PREFIX}vx`;
const HAND_BR = `${PREFIX}br`;
const HAND_VETH = `${PREFIX}ve`;

const removeHandVxlan = async (): Promise<void> => {
  // Each step on its own: a half-built setup is still taken down.
  for (const { host } of handHosts) {
    await run(['ip', 'netns', 'del', handNetns(host)]);
    let hostNs: string;
    try {
      hostNs = lab.hostNetns(host);
    } catch {
      continue; // the lab is already gone, and the devices with it
    }
    for (const dev of [HAND_VETH, HAND_VX, HAND_BR]) await run(['ip', '-n', hostNs, 'link', 'del', dev]);
  }
};

const buildHandVxlan = async (): Promise<string[]> => {
  await removeHandVxlan();
  const nss: string[] = [];
  for (const { host, index, peer } of handHosts) {
    const hostNs = lab.hostNetns(host);
    const ns = handNetns(host);
    const ip = (...a: string[]): Promise<void> => must(['ip', '-n', hostNs, ...a]);
    await must(['ip', 'netns', 'add', ns]);
    await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await ip('link', 'add', HAND_VX, 'type', 'vxlan', 'id', HAND_VNI, 'local', hostAddress(index), 'dstport', '4789', 'nolearning');
    await must(['bridge', '-n', hostNs, 'fdb', 'append', '00:00:00:00:00:00', 'dev', HAND_VX, 'dst', hostAddress(peer)]);
    await ip('link', 'add', HAND_BR, 'type', 'bridge');
    await ip('link', 'set', HAND_VX, 'master', HAND_BR, 'up');
    await ip('link', 'add', HAND_VETH, 'mtu', '1450', 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', '1450', 'netns', ns);
    await ip('link', 'set', HAND_VETH, 'master', HAND_BR, 'up');
    await ip('link', 'set', HAND_BR, 'up');
    await must(['ip', '-n', ns, 'addr', 'add', `${handAddress(index)}/24`, 'dev', 'eth0']);
    await must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    nss.push(ns);
  }
  // A first ping resolves ARP across the tunnel (flooded via the all-zeros FDB entry).
  const [a] = nss;
  const r = await run(['ip', 'netns', 'exec', a ?? '', 'ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', handAddress(3)]);
  if (r.code !== 0) throw new Error(`hand-built VXLAN: h1 cannot ping ${handAddress(3)}: ${r.out}${r.err}`);
  return nss;
};

/** The reference figures (../shared/bench-anchors/RESULTS-reference.txt), for the table. */
const ANCHORS: Record<string, string> = { overlay: '-', 'hand-vxlan': '12.72 (vxlan-1450)', underlay: '16.82 (veth)' };

const throughput = async (): Promise<Record<string, number[]>> => {
  const a = await lab.addContainer('h1', 'ia');
  const c = await lab.addContainer('h3', 'ic');
  await ok('h1', 'connect', 'bench', '--netns', a, '--ip', '10.90.0.200');
  await ok('h3', 'connect', 'bench', '--netns', c, '--ip', '10.90.0.201');
  const [ha, hc] = await buildHandVxlan();
  try {
    const cases: Array<[string, () => number]> = [
      ['overlay', () => iperf(c, a, '10.90.0.201')],
      ['hand-vxlan', () => iperf(hc ?? '', ha ?? '', handAddress(3))],
      ['underlay', () => iperf(lab.hostNetns('h3'), lab.hostNetns('h1'), hostAddress(3))],
    ];
    const out: Record<string, number[]> = Object.fromEntries(cases.map(([n]) => [n, []]));
    // Round-robin: each rep runs every case once, so drift in the machine's load hits all alike.
    for (let r = 0; r < reps; r++) for (const [name, f] of cases) out[name]?.push(f());
    return out;
  } finally {
    await removeHandVxlan();
  }
};

const main = async (): Promise<void> => {
  await lab.prepare({ hosts: 3, store: 'etcd' });
  const times = await convergence();
  console.log(`convergence over ${times.length} trials: p50 ${quantile(times, 0.5).toFixed(1)} ms, p95 ${quantile(times, 0.95).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`);
  console.log(`  of which the connect command on h1: p50 ${quantile(connectTimes, 0.5).toFixed(1)} ms, p95 ${quantile(connectTimes, 0.95).toFixed(1)} ms`);
  console.log(`RESULT overlay convergence trials=${times.length} p50_ms=${quantile(times, 0.5).toFixed(1)} p95_ms=${quantile(times, 0.95).toFixed(1)} connect_p50_ms=${quantile(connectTimes, 0.5).toFixed(1)}`);
  if (process.env['TNET_BENCH_CONVERGENCE_ONLY'] === '1') return;
  const hasIperf = spawnSync('iperf3', ['--version']).status === 0;
  if (!hasIperf) {
    console.log('RESULT overlay throughput skipped (iperf3 not installed; bin/setup.sh --test installs it)');
    return;
  }
  const tp = await throughput();
  const f = (x: number): string => x.toFixed(2);
  console.log(`\nthroughput, iperf3 TCP ${seconds} s, ${reps} reps round-robin (Gbit/s):`);
  printTable(['case', 'p50', 'min', 'max', 'reps', 'anchor p50'], Object.entries(tp).map(([name, xs]) =>
    [name, f(quantile(xs, 0.5)), f(Math.min(...xs)), f(Math.max(...xs)), String(xs.length), ANCHORS[name] ?? '-']));
  for (const [name, xs] of Object.entries(tp)) {
    console.log(`RESULT overlay throughput ${name} gbps_p50=${f(quantile(xs, 0.5))} gbps_min=${f(Math.min(...xs))} gbps_max=${f(Math.max(...xs))} reps=${xs.length}`);
  }
};

runBench(main, () => {
  void removeHandVxlan().finally(() => lab.close());
});
