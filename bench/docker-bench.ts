/**
 * Docker 20.10 with tnet as its network driver vs Docker's own bridge driver (iptables and the
 * userland proxy on), in one run, each dockerd private and in a throwaway namespace of its own:
 *   connect+disconnect  `docker network connect` + `disconnect` of a running container
 *   run --rm            `docker run --rm --network N image true`
 * p50/p95 over DOCKER_BENCH_TRIALS (30) with 1 and 200 containers attached already
 * (DOCKER_BENCH_LEVELS=1,200), and `docker run -d` of one container with 200 published ports
 * (DOCKER_BENCH_PORTS). Times are whole docker CLI calls (its ~50 ms start is in both columns).
 * Run: sudo node dist/bench/docker-bench.js   (DOCKER_BENCH_PREFIX names everything, default tnbdk;
 * DOCKER_BENCH_LOG=FILE keeps the tnet daemon's log, one line per plugin call with its time;
 * DOCKER_BENCH_PROFILE=DIR writes the daemon's CPU profile there, which NODE_OPTIONS cannot ask for)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compiled, ensureBuilt } from '../scenarios/lab/build.js';
import { createDockerd, DOCKER_IMAGE, exec, importBusybox, PLUGINS_DIR, type Dockerd } from '../scenarios/lab/dockerd.js';
import { printTable, quantile, runBench } from './report.js';

const prefix = process.env['DOCKER_BENCH_PREFIX'] ?? 'tnbdk';
const levels = (process.env['DOCKER_BENCH_LEVELS'] ?? '1,200').split(',').map(Number);
const trials = Number(process.env['DOCKER_BENCH_TRIALS'] ?? 30);
const portCount = Number(process.env['DOCKER_BENCH_PORTS'] ?? 200);
const work = mkdtempSync(join(tmpdir(), `${prefix}-`));
const driver = prefix.replace(/[^a-z0-9]/g, '') + 'tnet';
const pluginSocket = join(PLUGINS_DIR, `${driver}.sock`);
const namespaces = [`${prefix}-tnet`, `${prefix}-docker`];
const dockerds: Dockerd[] = [];
let daemon: ChildProcess | undefined;

const must = async (cmd: string, args: string[]): Promise<void> => {
  const r = await exec(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
};

/** The tnet daemon's Docker role, serving the namespace its dockerd runs in. */
const startTnet = async (ns: string, d: Dockerd): Promise<void> => {
  const profile = process.env['DOCKER_BENCH_PROFILE'];
  const args = [...(profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`]), compiled('bin/tnet.js'), '--host-netns', ns, '--state-dir', join(work, 'tnet'), 'daemon', '--roles', 'repair,docker', '--docker-socket', pluginSocket, '--docker-host', d.host];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TNET_CONFIG: '' } });
  daemon = child;
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
      const keep = process.env['DOCKER_BENCH_LOG'];
      if (keep !== undefined) appendFileSync(keep, b);
      if (log.includes(`listening on ${pluginSocket}`)) resolve();
    });
    child.once('exit', () => reject(new Error(`tnet daemon exited: ${log}`)));
  });
};

const timed = async (d: Dockerd, ...args: string[]): Promise<number> => {
  const t0 = performance.now();
  await d.ok(...args);
  return performance.now() - t0;
};

interface Setup {
  readonly label: string;
  readonly d: Dockerd;
  readonly driver: string;
}

/** Containers attached so far per setup, so each level adds only what it lacks. */
const attached = new Map<string, number>();

const fill = async (s: Setup, n: number): Promise<void> => {
  for (let i = attached.get(s.label) ?? 0; i < n; i++) await s.d.ok('run', '-d', '--network', 'bn', '--name', `fill${i}`, DOCKER_IMAGE, 'sleep', '86400');
  attached.set(s.label, Math.max(n, attached.get(s.label) ?? 0));
};

const sample = async (s: Setup, op: 'connect' | 'run'): Promise<number[]> => {
  const xs: number[] = [];
  for (let i = 0; i < trials; i++) {
    if (op === 'run') xs.push(await timed(s.d, 'run', '--rm', '--network', 'bn', DOCKER_IMAGE, 'true'));
    else xs.push((await timed(s.d, 'network', 'connect', 'bn', 'probe')) + (await timed(s.d, 'network', 'disconnect', 'bn', 'probe')));
  }
  return xs;
};

const main = async (): Promise<void> => {
  ensureBuilt();
  for (const ns of namespaces) {
    await exec('ip', ['netns', 'del', ns]);
    await must('ip', ['netns', 'add', ns]);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  const [tnetNs, dockerNs] = namespaces as [string, string];
  const tnetD = createDockerd({ dir: join(work, 'dt'), netns: tnetNs });
  const bridgeD = createDockerd({ dir: join(work, 'db'), netns: dockerNs, dockerNetworking: true });
  dockerds.push(tnetD, bridgeD);
  await startTnet(tnetNs, tnetD);
  const setups: Setup[] = [{ label: 'tnet', d: tnetD, driver }, { label: 'docker bridge', d: bridgeD, driver: 'bridge' }];
  for (const s of setups) {
    await s.d.start();
    await importBusybox(s.d, join(work, s.label === 'tnet' ? 'dt' : 'db'));
    await s.d.ok('network', 'create', '-d', s.driver, '--subnet', '10.90.0.0/16', 'bn');
    await s.d.ok('network', 'create', '-d', s.driver, '--subnet', '10.91.0.0/24', 'side');
    await s.d.ok('run', '-d', '--network', 'side', '--name', 'probe', DOCKER_IMAGE, 'sleep', '86400');
  }
  const rows: string[][] = [];
  for (const n of levels) {
    for (const op of ['connect', 'run'] as const) {
      const cells: string[] = [op === 'connect' ? 'connect+disconnect' : 'run --rm', String(n)];
      for (const s of setups) {
        await fill(s, n - 1);
        const xs = await sample(s, op);
        cells.push(quantile(xs, 0.5).toFixed(0), quantile(xs, 0.95).toFixed(0));
      }
      rows.push(cells);
      console.log(`RESULT docker ${op} n=${n} tnet_p50_ms=${cells[2]} bridge_p50_ms=${cells[4]}`);
    }
  }
  const ports = [`${20000}-${20000 + portCount - 1}:${20000}-${20000 + portCount - 1}`];
  const cells = [`run -d, ${portCount} ports`, String(Math.max(...levels))];
  for (const s of setups) {
    const xs: number[] = [];
    for (let i = 0; i < Math.min(trials, 3); i++) {
      xs.push(await timed(s.d, 'run', '-d', '--network', 'bn', '--name', 'ports', '-p', ...ports, DOCKER_IMAGE, 'sleep', '86400'));
      await s.d.ok('rm', '-f', 'ports');
    }
    cells.push(quantile(xs, 0.5).toFixed(0), quantile(xs, 0.95).toFixed(0));
  }
  rows.push(cells);
  console.log(`RESULT docker ports=${portCount} tnet_p50_ms=${cells[2]} bridge_p50_ms=${cells[4]}`);
  printTable(['operation', 'attached', 'tnet p50 ms', 'tnet p95', 'bridge p50 ms', 'bridge p95'], rows);
};

/** Every step runs whatever the one before did; what fails is said. */
const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
  try {
    await fn();
  } catch (e) {
    console.error(`cleanup: ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
};

const cleanup = async (): Promise<void> => {
  for (const d of dockerds) {
    await attempt('containers', async () => {
      const ids = (await d.docker('ps', '-aq')).stdout.split('\n').filter((x) => x !== '');
      if (ids.length > 0) await d.docker('rm', '-f', ...ids);
    });
    await attempt('dockerd', () => d.destroy());
  }
  const child = daemon;
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    await attempt('tnet daemon', () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      return exited;
    });
  }
  rmSync(pluginSocket, { force: true });
  for (const ns of namespaces) await attempt(`netns ${ns}`, () => exec('ip', ['netns', 'del', ns]));
  rmSync(work, { recursive: true, force: true });
  console.error('cleanup: done');
};

runBench(main, () => void cleanup());
