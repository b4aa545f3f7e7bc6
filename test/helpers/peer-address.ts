/**
 * Which source address a server sees: a one-shot TCP server in one namespace, a client in
 * another. Both are child processes stopped by PID; traffic stays inside test namespaces.
 */
import { spawn } from 'node:child_process';
import { tryRun } from './sh.js';

const SERVER = `
const s = require('net').createServer((c) => { process.stdout.write(c.remoteAddress + '\\n'); c.end(); s.close(); });
s.listen(Number(process.argv[2]), process.argv[1], () => process.stdout.write('listening\\n'));
setTimeout(() => process.exit(3), 8000).unref();`;

const CLIENT = `
const c = require('net').connect(Number(process.argv[2]), process.argv[1]);
c.on('close', () => process.exit(0)); c.on('error', (e) => { console.error(e.message); process.exit(1); });
setTimeout(() => process.exit(2), 3000).unref();`;

export const sourceSeenBy = async (serverNs: string, listen: string, port: number, clientNs: string): Promise<string | undefined> => {
  const server = spawn('ip', ['netns', 'exec', serverNs, 'node', '-e', SERVER, listen, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening')) resolve();
      });
      server.on('exit', () => reject(new Error('server exited before listening')));
    });
    const client = tryRun('ip', 'netns', 'exec', clientNs, 'node', '-e', CLIENT, listen, String(port));
    if (client.status !== 0) return undefined;
    await new Promise((resolve) => server.on('exit', resolve));
    return out.split('\n').find((l) => l !== '' && l !== 'listening')?.replace(/^::ffff:/, '');
  } finally {
    if (server.exitCode === null && server.pid !== undefined) process.kill(server.pid, 'SIGKILL');
  }
};
