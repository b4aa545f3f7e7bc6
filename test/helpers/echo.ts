/**
 * A TCP+UDP "who am I" echo in a test namespace: the server answers every TCP connection and UDP
 * datagram with the client address it saw. Both sides are child processes (server stopped by
 * PID); traffic stays inside test namespaces.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { tryRun } from './sh.js';

const SERVER = `
const port = Number(process.argv[1]);
const clean = (a) => a.replace(/^::ffff:/, '');
require('net').createServer((c) => c.end(clean(c.remoteAddress) + '\\n')).listen(port, '::');
const u = require('dgram').createSocket({ type: 'udp6' });
u.on('message', (m, r) => u.send(clean(r.address) + '\\n', r.port, r.address));
u.bind(port, '::', () => process.stdout.write('listening\\n'));`;

const CLIENT = `
const [proto, host, port] = [process.argv[1], process.argv[2], Number(process.argv[3])];
setTimeout(() => process.exit(2), 1500).unref();
const done = (d) => { process.stdout.write(String(d).trim()); process.exit(0); };
if (proto === 'tcp') {
  const c = require('net').connect(port, host); let out = '';
  c.on('data', (d) => (out += d)); c.on('end', () => done(out)); c.on('error', (e) => { console.error(e.message); process.exit(1); });
} else {
  const u = require('dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4');
  u.on('message', done); u.send('who', port, host);
}`;

export interface EchoServer {
  stop(): void;
}

export const startEcho = async (ns: string, port: number): Promise<EchoServer> => {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'node', '-e', SERVER, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    child.on('exit', () => reject(new Error('echo server exited before listening')));
  });
  return { stop: () => { if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL'); } };
};

/** The client address the echo server saw, or undefined when nothing answered. */
export const askEcho = (ns: string, proto: 'tcp' | 'udp', host: string, port: number): string | undefined => {
  const r = tryRun('ip', 'netns', 'exec', ns, 'node', '-e', CLIENT, proto, host, String(port));
  return r.status === 0 && r.stdout !== '' ? r.stdout : undefined;
};
