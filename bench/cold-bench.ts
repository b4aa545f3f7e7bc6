/**
 * Cold start: one CNI ADD and DEL per plugin process, and `tnet --version` / `tnet ls` per CLI
 * process, for each way of running them, interleaved so that every variant sees the same load:
 * - the launcher with V8's code cache (what `npm run build` makes and `tnet cni install` installs),
 * - the same bundle without the cache, the ES modules, and `node -e 0` as the floor.
 * Prints wall and CPU (user + sys) p50 per variant; CPU moves less than wall on a shared machine.
 * Run: node dist/bench/cold-bench.js   (as root, after npm run build)
 * Env: TNET_BENCH_TRIALS (default 15); TNET_BENCH_EXTRA="name=DIR,…" adds the tnet-cni.cjs and
 *      tnet.cjs of another build's dist/bin (e.g. an older commit's) to the comparison.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createNamedNetns, deleteNamedNetns } from '../lib/kernel/netns.js';
import { printTable, quantile, runBench } from './report.js';

const PREFIX = 'tnc';
const trials = Number(process.env['TNET_BENCH_TRIALS'] ?? '15');
const BIN = join(import.meta.dirname, '..', 'bin');
const host = `${PREFIX}-host`;
const stateDir = mkdtempSync(join(tmpdir(), 'tnet-bench-'));
const made: string[] = [];

interface Variant {
  readonly name: string;
  /** node's arguments before the command's own. */
  readonly plugin: readonly string[];
  readonly cli: readonly string[];
}

const extra = (process.env['TNET_BENCH_EXTRA'] ?? '').split(',').filter((s) => s.includes('='));
const VARIANTS: readonly Variant[] = [
  { name: 'launcher + code cache', plugin: [join(BIN, 'tnet-cni.cjs')], cli: [join(BIN, 'tnet.cjs')] },
  { name: 'bundle, no cache', plugin: [join(BIN, 'tnet-cni.bundle.cjs')], cli: [join(BIN, 'tnet.bundle.cjs')] },
  { name: 'ES modules', plugin: [join(BIN, 'tnet-cni.js')], cli: [join(BIN, 'tnet.js')] },
  ...extra.map((e) => {
    const [name = '', dir = ''] = e.split('=');
    return { name, plugin: [join(dir, 'tnet-cni.cjs')], cli: [join(dir, 'tnet.cjs')] };
  }),
  { name: 'node -e 0', plugin: ['-e', '0'], cli: ['-e', '0', '--'] },
];

interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

/** One process: wall time here, CPU time from bash's `time` (getrusage of the child, ms resolution). */
const run = (args: readonly string[], env: NodeJS.ProcessEnv, stdin: string): Sample => {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%3U %3S"; time "$@" >/dev/null 2>/dev/null', 'bench', process.execPath, ...args], { env, input: stdin, encoding: 'utf8' });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')}: exit ${r.status}`);
  const [user = NaN, sys = NaN] = (r.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { wall, cpu: (user + sys) * 1000 };
};

const netns = (name: string): string => {
  const full = `${PREFIX}-${name}`;
  createNamedNetns(full);
  made.push(full);
  return full;
};

const p50 = (xs: readonly Sample[], key: keyof Sample): string => quantile(xs.map((x) => x[key]), 0.5).toFixed(0);

/**
 * What a runtime passes, more or less: nothing of this shell's. NODE_EXTRA_CA_CERTS, for one, makes
 * every node process parse a CA bundle at start (~40 ms of CPU here).
 */
const bareEnv = { PATH: process.env['PATH'] ?? '' };

const main = async (): Promise<void> => {
  netns('host');
  const conf = (k: number) =>
    JSON.stringify({ cniVersion: '1.0.0', name: `cold${k}`, type: 'tnet', subnet: `10.201.${k}.0/24`, stateDir: join(stateDir, String(k)), hostNetns: `/run/netns/${host}` });
  const cniEnv = (command: string, k: number, i: number) => ({
    ...bareEnv,
    CNI_COMMAND: command,
    CNI_CONTAINERID: `c${k}-${i}`,
    CNI_NETNS: `/run/netns/${PREFIX}-c${k}-${i}`,
    CNI_IFNAME: 'eth0',
  });
  const results = VARIANTS.map(() => ({ add: [] as Sample[], del: [] as Sample[], version: [] as Sample[], ls: [] as Sample[] }));
  for (let i = 0; i < trials; i++) {
    VARIANTS.forEach((v, k) => {
      netns(`c${k}-${i}`);
      results[k]?.add.push(run(v.plugin, cniEnv('ADD', k, i), conf(k)));
    });
  }
  for (let i = 0; i < trials; i++) {
    VARIANTS.forEach((v, k) => {
      results[k]?.del.push(run(v.plugin, cniEnv('DEL', k, i), conf(k)));
      results[k]?.version.push(run([...v.cli, '--version'], bareEnv, ''));
      results[k]?.ls.push(run([...v.cli, 'ls', '--state-dir', join(stateDir, '0'), '--host-netns', host], bareEnv, ''));
    });
  }
  const header = ['variant', 'ADD p50 ms', 'cpu', 'DEL p50 ms', 'cpu', 'tnet --version p50 ms', 'cpu', 'tnet ls p50 ms', 'cpu'];
  printTable(header, VARIANTS.map((v, k) => {
    const r = results[k] ?? { add: [], del: [], version: [], ls: [] };
    return [v.name, p50(r.add, 'wall'), p50(r.add, 'cpu'), p50(r.del, 'wall'), p50(r.del, 'cpu'), p50(r.version, 'wall'), p50(r.version, 'cpu'), p50(r.ls, 'wall'), p50(r.ls, 'cpu')];
  }));
  console.log(`(${trials} trials each, interleaved; cpu = user + sys of the process)`);
};

runBench(main, () => {
  for (const ns of made.reverse()) deleteNamedNetns(ns);
  rmSync(stateDir, { recursive: true, force: true });
});
