/**
 * Port publishing at scale, in throwaway namespaces (prefix tnpb-):
 *  A. time to publish the N-th mapping, N = 10, 1 000, 10 000 (TNET_BENCH_PORT_SIZES): the whole
 *     library call (store + scoped reconcile + one nft transaction) and the nft transaction alone;
 *  B. TCP connections per second from a client namespace through the host's DNAT (10 000
 *     mappings in the maps) vs straight to the container (no NAT), interleaved, same run.
 * Printed beside the anchors measured with the nft binary (shared/bench-anchors, issue 3).
 * Run: node dist/bench/ports-bench.js   (as root)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openApp } from '../lib/app.js';
import { addElementCommands, elementsOf, forgetElementCommands, forwardsOf } from '../lib/firewall/forwards.js';
import { createNamedNetns, deleteNamedNetns } from '../lib/kernel/netns.js';
import type { Endpoint, PortMapping } from '../lib/model/types.js';
import { connect } from '../lib/service/endpoints.js';
import { createNetwork } from '../lib/service/networks.js';
import { publishPorts, unpublishPorts } from '../lib/service/ports.js';
import { printTable, quantile, runBench } from './report.js';

const P = 'tnpb';
const sizes = (process.env['TNET_BENCH_PORT_SIZES'] ?? '10,1000,10000').split(',').map(Number);
const trials = Number(process.env['TNET_BENCH_TRIALS'] ?? '30');
const seconds = Number(process.env['TNET_BENCH_SECONDS'] ?? '5');
const reps = Number(process.env['TNET_BENCH_REPS'] ?? '3');
const PER_ENDPOINT = 100; // prefill spreads mappings over endpoints, as real hosts have many containers
const FIRST_PORT = 20000;
const ANCHOR = { nftBinaryAddMs: 4, libnftAddMs: 0.12, ruleConn: 3771, mapConn: 11023, noNatConn: 13018 };

const q = quantile;
const sh = (...args: string[]): string => {
  const r = spawnSync(args[0] ?? '', args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const made: string[] = [];
const netns = (name: string): string => {
  createNamedNetns(`${P}-${name}`);
  made.push(`${P}-${name}`);
  return `${P}-${name}`;
};
const tcp = (hostPort: number, containerPort = 80): PortMapping => ({ protocol: 'tcp', hostPort, containerPort });

const CONNRATE = `
const [host, port, secs] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const net = require('net'); const end = Date.now() + secs * 1000; let n = 0, errors = 0;
const one = () => { if (Date.now() >= end) { console.log(JSON.stringify({ rate: n / secs, errors })); return; }
  const s = net.connect(port, host); s.on('connect', () => { n++; s.resetAndDestroy(); one(); }); s.on('error', () => { errors++; one(); }); };
one();`;
const SERVER = `require('net').createServer((c) => { c.on('error', () => {}); c.destroy(); }).listen(80, '0.0.0.0', () => console.log('up'));`;

const connRate = (ns: string, host: string, port: number): number => {
  const out = sh('ip', 'netns', 'exec', ns, 'node', '-e', CONNRATE, host, String(port), String(seconds));
  return (JSON.parse(out) as { rate: number }).rate;
};

const main = async (): Promise<void> => {
  const host = netns('host');
  const client = netns('cli');
  sh('ip', 'link', 'add', 'tnpbc', 'netns', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client);
  sh('ip', '-n', host, 'addr', 'add', '10.202.0.1/24', 'dev', 'tnpbc');
  sh('ip', '-n', host, 'link', 'set', 'tnpbc', 'up');
  sh('ip', '-n', client, 'addr', 'add', '10.202.0.2/24', 'dev', 'eth0');
  sh('ip', '-n', client, 'link', 'set', 'eth0', 'up');
  sh('ip', '-n', client, 'route', 'add', 'default', 'via', '10.202.0.1');
  const stateDir = mkdtempSync(join(tmpdir(), 'tnet-bench-'));
  const app = await openApp({ stateDir, hostNetns: host });
  const { ctx } = app;
  const rowsA: string[][] = [];
  try {
    await createNetwork(ctx, { name: 'bench', driver: 'bridge', ipv4: { subnet: '10.201.0.0/16' } });
    const server = await connect(ctx, { network: 'bench', netns: netns('srv') });
    const probe = await connect(ctx, { network: 'bench', netns: netns('probe') });
    let filled = 0;
    let fillers = 0;
    const fillTo = async (n: number): Promise<void> => {
      while (filled < n) {
        const count = Math.min(PER_ENDPOINT, n - filled);
        const ports = Array.from({ length: count }, (_, i) => tcp(FIRST_PORT + filled + i));
        const ns = fillers === 0 ? server.netns : (await connect(ctx, { network: 'bench', netns: netns(`f${fillers}`) })).netns;
        fillers++;
        await publishPorts(ctx, 'bench', { netns: ns }, ports);
        filled += count;
      }
    };
    for (const n of sizes) {
      await fillTo(n - 1);
      const lib: number[] = [];
      const nftOnly: number[] = [];
      for (let k = 0; k < trials; k++) {
        const m = tcp(40000 + k);
        let t0 = performance.now();
        const e: Endpoint = await publishPorts(ctx, 'bench', { netns: probe.netns }, [m]);
        lib.push(performance.now() - t0);
        await unpublishPorts(ctx, 'bench', { netns: probe.netns }, []);
        const net = await ctx.repo.requireNetwork('bench');
        const els = forwardsOf(net, e).flatMap(elementsOf);
        t0 = performance.now();
        ctx.kernel.nft.run({ nftables: addElementCommands(els) });
        nftOnly.push(performance.now() - t0);
        ctx.kernel.nft.run({ nftables: forgetElementCommands(els) });
      }
      rowsA.push([String(n), q(lib, 0.5).toFixed(2), q(lib, 0.95).toFixed(2), q(nftOnly, 0.5).toFixed(3), q(nftOnly, 0.95).toFixed(3)]);
      console.error(`add N-th: N=${n} library p50 ${q(lib, 0.5).toFixed(2)} ms, nft transaction p50 ${q(nftOnly, 0.5).toFixed(3)} ms`);
    }

    // B: the probed mapping is the server's first (hash maps: position does not matter); the maps hold all the others.
    const srv = spawn('ip', ['netns', 'exec', server.netns.replace('/run/netns/', ''), 'node', '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => srv.stdout.once('data', r));
    const dnatPort = FIRST_PORT;
    const rates = { dnat: [] as number[], direct: [] as number[] };
    try {
      for (let r = 0; r < reps; r++) {
        rates.direct.push(connRate(client, server.ipv4 ?? '', 80));
        rates.dnat.push(connRate(client, '10.202.0.1', dnatPort));
        console.error(`rep ${r + 1}: direct ${rates.direct.at(-1)?.toFixed(0)} conn/s, dnat ${rates.dnat.at(-1)?.toFixed(0)} conn/s`);
      }
    } finally {
      if (srv.pid !== undefined) process.kill(srv.pid, 'SIGKILL');
    }
    print(rowsA, filled + 1, q(rates.dnat, 0.5), q(rates.direct, 0.5));
  } finally {
    await app.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
};

const print = (rowsA: string[][], mappings: number, dnat: number, direct: number): void => {
  const table = printTable;
  console.log(`\nA. Publish the N-th mapping (${trials} trials; anchors: nft binary ~${ANCHOR.nftBinaryAddMs} ms/add, in-process libnftables ~${ANCHOR.libnftAddMs} ms/add)`);
  table(['N', 'tnet publish p50 ms', 'p95', 'nft transaction p50 ms', 'p95'], rowsA);
  console.log(`\nB. TCP connections/s, client ns -> host -> container (${reps} reps x ${seconds}s, p50), ${mappings - 1} mappings in the maps`);
  table(['case', 'tnet conn/s', 'anchor conn/s (nft binary bench)'], [
    ['no NAT', direct.toFixed(0), String(ANCHOR.noNatConn)],
    ['DNAT via tnet maps', dnat.toFixed(0), `${ANCHOR.mapConn} (map), ${ANCHOR.ruleConn} (rule per port)`],
    ['DNAT / no NAT', (dnat / direct).toFixed(2), (ANCHOR.mapConn / ANCHOR.noNatConn).toFixed(2)],
  ]);
  for (const r of rowsA) console.log(`RESULT ports add-nth N=${r[0]} lib_p50_ms=${r[1]} nft_p50_ms=${r[3]}`);
  console.log(`RESULT ports conn dnat_map=${dnat.toFixed(0)} no_nat=${direct.toFixed(0)}`);
};

runBench(main, () => {
  for (const ns of made.reverse()) deleteNamedNetns(ns);
});
