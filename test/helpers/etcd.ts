/**
 * A throwaway single-member etcd on loopback for store tests: free random ports, a temp data dir
 * (removed on stop), stopped by its PID only. Needs the Debian etcd-server package.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_STATE_PREFIX } from './state-dir.js';

export interface TestEtcd {
  readonly endpoints: string[];
  /** SIGSTOP / SIGCONT: an etcd that is there but does not answer, like one on a starved machine. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** A port nothing listens on right now (the kernel picks it; a race with other tests is unlikely). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startEtcd(): Promise<TestEtcd> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const dataDir = mkdtempSync(join(tmpdir(), `${TEST_STATE_PREFIX}etcd-`));
  const child = spawn(
    'etcd',
    [
      ...['--name', 'tnet-test', '--data-dir', dataDir, '--log-level', 'error', '--logger', 'zap'],
      ...['--listen-client-urls', client, '--advertise-client-urls', client],
      ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `tnet-test=${peer}`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())));
  // A failed spawn (etcd not installed) may never emit 'exit'.
  child.on('error', (e) => ((exited = true), (stderr += String(e))));

  const stop = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) {
      process.kill(child.pid, 'SIGCONT');
      process.kill(child.pid, 'SIGTERM');
      const killed = await Promise.race([exit.then(() => true), sleep(3_000).then(() => false)]);
      if (!killed) {
        process.kill(child.pid, 'SIGKILL');
        await exit;
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    const healthy = await fetch(`${client}/health`)
      .then(async (r) => ((await r.json()) as { health?: string }).health === 'true')
      .catch(() => false);
    const signal = (name: NodeJS.Signals) => (): void => void (child.pid !== undefined && !exited && process.kill(child.pid, name));
    if (healthy) return { endpoints: [client], pause: signal('SIGSTOP'), resume: signal('SIGCONT'), stop };
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`etcd on ${client} did not become healthy${exited ? ' (it exited)' : ''}: ${stderr}`);
    }
    await sleep(50);
  }
}
