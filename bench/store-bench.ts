/**
 * The embedded store's commit, as every tnet call makes several: one commit of an endpoint-sized
 * record followed by the list and get an operation does next, p50/p95 over TNET_BENCH_TRIALS (300)
 * trials at 10, 1 000 and 5 000 keys held (TNET_BENCH_STORE_SIZES), beside what this disk takes to
 * append 1 KB to a file and fdatasync it (the floor of any durable commit here), measured in the
 * same run. A warm process's read after another process's commit is in the same figure's shape:
 * it reads the journal's new line, not the store. Run: node dist/bench/store-bench.js
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openLocalStore } from '../lib/store/local.js';
import { printTable, quantile, runBench } from './report.js';

const sizes = (process.env['TNET_BENCH_STORE_SIZES'] ?? '10,1000,5000').split(',').map(Number);
const trials = Number(process.env['TNET_BENCH_TRIALS'] ?? '300');
const dir = mkdtempSync(join(tmpdir(), 'tnet-store-bench-'));
const record = (i: number): string => JSON.stringify({ id: `ep-${i}`, network: 'net', address: `10.0.${i >> 8}.${i & 255}`, pad: 'x'.repeat(900) });

const timed = async (fn: () => Promise<void> | void): Promise<number[]> => {
  const ms: number[] = [];
  for (let t = 0; t < trials; t++) {
    const start = performance.now();
    await fn();
    ms.push(performance.now() - start);
  }
  return ms;
};
const figures = (ms: number[]): string => `${quantile(ms, 0.5).toFixed(2)} / ${quantile(ms, 0.95).toFixed(2)}`;

const main = async (): Promise<void> => {
  const floorFile = join(dir, 'floor');
  const line = Buffer.from(`${record(0)}\n`);
  const floor = await timed(() => {
    const fd = openSync(floorFile, 'a');
    writeSync(fd, line);
    fdatasyncSync(fd);
    closeSync(fd);
  });
  const rows: string[][] = [];
  for (const size of sizes) {
    const store = await openLocalStore(join(dir, `s${size}`));
    await store.commit([], Array.from({ length: size }, (_, i) => ({ op: 'put' as const, key: `/endpoints/net/ep-${i}`, value: record(i) })));
    let i = 0;
    const commit = await timed(async () => {
      const key = `/endpoints/net/ep-${i++ % size}`;
      await store.commit([], [{ op: 'put', key, value: record(i) }]);
      await store.list('/endpoints/net/');
      await store.get(key);
    });
    await store.close();
    rows.push([String(size), figures(commit), figures(floor)]);
  }
  printTable(['keys held', 'commit + list + get p50 / p95 ms', 'disk: append 1 KB + fdatasync p50 / p95 ms'], rows);
};

runBench(main, () => rmSync(dir, { recursive: true, force: true }));
