/**
 * The daemon's control socket, <stateDir>/daemon.sock (root only): `tnet daemon status` and
 * `tnet doctor` ask it what the daemon serving this state dir is doing. A client that sends
 * nonsense, too much, or nothing gets an error reply or is dropped; the daemon carries on.
 */
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { encodeReply, MAX_REQUEST_BYTES, parseControlRequest } from './control-protocol.js';

export const controlSocketPath = (stateDir: string): string => join(stateDir, 'daemon.sock');

const CLIENT_IDLE_MS = 5_000;

const serve = (conn: Socket, status: () => unknown): void => {
  let received = Buffer.alloc(0);
  let answered = false;
  const answer = (raw: Buffer): void => {
    if (answered) return;
    answered = true;
    const parsed = parseControlRequest(raw);
    let reply: unknown;
    try {
      reply = parsed.ok ? status() : { error: parsed.error };
    } catch (e) {
      reply = { error: `status failed: ${e instanceof Error ? e.message : String(e)}` };
    }
    conn.end(encodeReply(reply));
  };
  conn.setTimeout(CLIENT_IDLE_MS, () => conn.destroy());
  conn.on('error', () => undefined);
  conn.on('data', (chunk: Buffer) => {
    if (answered) return;
    received = Buffer.concat([received, chunk]);
    const newline = received.indexOf(10);
    if (newline !== -1) answer(received.subarray(0, newline));
    else if (received.length > MAX_REQUEST_BYTES) answer(received);
  });
  conn.on('end', () => answer(received));
};

export interface ControlServer {
  close(): Promise<void>;
}

/** Call only while holding the daemon lock: a socket left at the path is then a dead daemon's. */
export const startControlServer = async (stateDir: string, status: () => unknown): Promise<ControlServer> => {
  const path = controlSocketPath(stateDir);
  rmSync(path, { force: true });
  const server = createServer({ allowHalfOpen: true }, (conn) => serve(conn, status));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        rmSync(path, { force: true });
        server.close(() => resolve());
      }),
  };
};

/** The status of the daemon serving stateDir, or undefined when none answers. */
export const queryDaemon = (stateDir: string, timeoutMs = 2_000): Promise<Record<string, unknown> | undefined> =>
  new Promise((resolve, reject) => {
    const conn = createConnection(controlSocketPath(stateDir));
    let reply = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`the daemon's control socket ${controlSocketPath(stateDir)} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    conn.on('connect', () => conn.end('{"op":"status"}\n'));
    conn.on('data', (d: Buffer) => (reply += d.toString()));
    conn.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') resolve(undefined);
      else reject(e);
    });
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(reply) as Record<string, unknown>);
      } catch {
        reject(new Error(`the daemon's control socket answered something that is not JSON: ${reply.slice(0, 80)}`));
      }
    });
  });
