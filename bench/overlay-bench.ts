/**
 * Overlay bench on the netns lab (3 hosts, 3-member etcd, agents):
 *  - convergence: `tnet connect` of a new container on h1 until a container on h3 gets a ping
 *    answer from it (p50/p95 over TNET_BENCH_TRIALS, default 50; goal p95 <= 200 ms). The connect
 *    runs through the lab's host shell (the real CLI code in a warm process), so node's ~0.5 s
 *    cold start is not counted; the prober's ARP retransmit time is lowered to 10 ms so the
 *    figure is tnet's propagation, not the kernel's 1 s ARP retry.
 *  - throughput: iperf3 TCP between a container on h1 and one on h3 over the overlay, and between
 *    the h1 and h3 host namespaces over the plain underlay veths, interleaved in the same run.
 * Run: node dist/bench/overlay-bench.js   (as root, after bin/setup.sh --test)
 */
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createNetnsLab, run } from '../lab/netns-lab.js';
import { hostAddress } from '../lab/topology.js';

const trials = Number(process.env['TNET_BENCH_TRIALS'] ?? '50');
const seconds = Number(process.env['TNET_BENCH_IPERF_SECONDS'] ?? '5');
const reps = Number(process.env['TNET_BENCH_IPERF_REPS'] ?? '3');
const lab = createNetnsLab({ prefix: 'tnob' });

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * q) - 1)] ?? NaN;
};

const ok = async (host: string, ...args: string[]): Promise<string> => {
  const r = await lab.tnet(host, args);
  if (r.code !== 0) throw new Error(`tnet ${args.join(' ')} on ${host}: ${r.err}`);
  return r.out;
};

/**
 * Pings `ip` from a namespace until it answers (a fresh one-packet ping every ~5 ms: ping itself
 * gives up early on "host unreachable"); resolves with the time the answer was seen.
 */
const firstReply = (ns: string, ip: string): { answered: Promise<number>; stop: () => void } => {
  const loop = `for i in $(seq 2000); do ping -n -q -c 1 -W 0.2 ${ip} >/dev/null 2>&1 && { echo ok; exit 0; }; sleep 0.005; done; exit 1`;
  const child = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', loop], { stdio: ['ignore', 'pipe', 'ignore'] });
  const answered = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (l === 'ok') resolve(performance.now());
    });
    child.on('exit', (code) => code !== 0 && reject(new Error(`no answer from ${ip}`)));
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
    const r = spawnSync('ip', ['netns', 'exec', clientNs, 'iperf3', '-c', ip, '-p', '5299', '-t', String(seconds), '-J'], { encoding: 'utf8' });
    const bps = (JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } }).end?.sum_received?.bits_per_second;
    return (bps ?? NaN) / 1e9;
  } finally {
    if (server.pid !== undefined && server.exitCode === null) process.kill(server.pid, 'SIGTERM');
  }
};

const throughput = async (): Promise<Record<string, number[]>> => {
  const a = await lab.addContainer('h1', 'ia');
  const c = await lab.addContainer('h3', 'ic');
  await ok('h1', 'connect', 'bench', '--netns', a, '--ip', '10.90.0.200');
  await ok('h3', 'connect', 'bench', '--netns', c, '--ip', '10.90.0.201');
  const out: Record<string, number[]> = { overlay: [], underlay: [] };
  for (let r = 0; r < reps; r++) {
    out['overlay']?.push(iperf(c, a, '10.90.0.201'));
    out['underlay']?.push(iperf(lab.hostNetns('h3'), lab.hostNetns('h1'), hostAddress(3)));
  }
  return out;
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
  for (const [name, xs] of Object.entries(tp)) {
    console.log(`RESULT overlay throughput ${name} gbps_p50=${quantile(xs, 0.5).toFixed(2)} gbps_min=${Math.min(...xs).toFixed(2)} gbps_max=${Math.max(...xs).toFixed(2)} reps=${xs.length}`);
  }
};

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => lab.close());
