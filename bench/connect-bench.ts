/**
 * Time to connect the n-th container, n = 1, 100, 500 (PF_LEVELS / TNET_BENCH_LEVELS), through
 * the real CLI process (cold start included, as a runtime would pay it) and through the library
 * in-process, next to the reference CNI bridge plugin's ADD latency measured on this machine
 * (../shared/bench-anchors/ANCHORS.md). Everything runs in a throwaway host namespace.
 * Run: node dist/bench/connect-bench.js   (as root, after bin/setup.sh)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openApp } from '../lib/app.js';
import { createNamedNetns, deleteNamedNetns } from '../lib/kernel/netns.js';
import { connect, disconnect } from '../lib/service/endpoints.js';
import { createNetwork } from '../lib/service/networks.js';
import { printTable, quantile, runBench } from './report.js';

const PREFIX = 'tnb';
const levels = (process.env['TNET_BENCH_LEVELS'] ?? '1,100,500').split(',').map(Number);
const trials = Number(process.env['TNET_BENCH_TRIALS'] ?? '15');
/** Reference bridge + host-local ADD p50, ms, at n = 1 / 100 / 500 (ANCHORS.md). */
const REFERENCE_ADD_P50: Record<number, number> = { 1: 26, 100: 32, 500: 77 };

const host = `${PREFIX}-host`;
const stateDir = mkdtempSync(join(tmpdir(), 'tnet-bench-'));
const cli = join(import.meta.dirname, '..', 'bin', 'tnet.cjs');
const made: string[] = [];

const netns = (name: string): string => {
  const full = `${PREFIX}-${name}`;
  createNamedNetns(full);
  made.push(full);
  return full;
};

const timeCli = (...args: string[]): number => {
  const t0 = performance.now();
  const r = spawnSync('node', [cli, ...args, '--host-netns', host, '--state-dir', stateDir], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`tnet ${args.join(' ')}: ${r.stderr}`);
  return ms;
};

const main = async (): Promise<void> => {
  createNamedNetns(host);
  made.push(host);
  const app = await openApp({ stateDir, hostNetns: host });
  const rows: string[][] = [];
  try {
    await createNetwork(app.ctx, { name: 'bench', driver: 'bridge', ipv4: { subnet: '10.200.0.0/20' } });
    let attached = 0;
    for (const n of levels) {
      while (attached < n - 1) await connect(app.ctx, { network: 'bench', netns: netns(`f${attached++}`) });
      const probe = netns(`p${n}`);
      const lib: number[] = [];
      const proc: number[] = [];
      for (let i = 0; i < trials; i++) {
        const t0 = performance.now();
        await connect(app.ctx, { network: 'bench', netns: probe });
        lib.push(performance.now() - t0);
        await disconnect(app.ctx, 'bench', { netns: probe });
        proc.push(timeCli('connect', 'bench', '--netns', probe));
        timeCli('disconnect', 'bench', '--netns', probe);
      }
      rows.push([String(n), quantile(proc, 0.5).toFixed(1), quantile(proc, 0.95).toFixed(1), quantile(lib, 0.5).toFixed(1), quantile(lib, 0.95).toFixed(1), String(REFERENCE_ADD_P50[n] ?? '-')]);
    }
  } finally {
    await app.close();
  }
  const header = ['n-th container', 'tnet CLI p50 ms', 'CLI p95', 'in-process p50 ms', 'in-process p95', 'ref bridge ADD p50 (anchor)'];
  printTable(header, rows);
  for (const r of rows) console.log(`RESULT connect n=${r[0]} cli_p50_ms=${r[1]} lib_p50_ms=${r[3]}`);
};

runBench(main, () => {
  for (const ns of made.reverse()) deleteNamedNetns(ns);
  rmSync(stateDir, { recursive: true, force: true });
});
