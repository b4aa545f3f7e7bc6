/**
 * The CNI role of the daemon (`tnet daemon`, or `tnet cni serve` for this role alone): one warm
 * process that does the plugin's calls, so a runtime's exec of the
 * installed wrapper costs a shell and socat instead of a node start and module load (the same
 * split as Cilium's and Calico's CNI plugins, which hand calls to their agents). Each call runs
 * exactly as the exec'd plugin would (runCni, with the caller's CNI_* and TNET_* variables);
 * calls run concurrently and exclude each other through the store's locks, as processes do.
 */
import { unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { claimSocketPath, listenOn } from '../unix-socket.js';
import { cniErrorBody } from './error-codes.js';
import { runCni, type CniOutcome } from './run.js';
import { LATEST_VERSION } from './versions.js';
import { decodeCall, encodeReply } from './wire.js';

export interface CniServerOptions {
  readonly socketPath: string;
  /** The process environment: under systemd socket activation it names the inherited socket. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: (line: string) => void;
}

const answer = async (request: Buffer): Promise<{ outcome: CniOutcome; what: string }> => {
  const call = decodeCall(request);
  if (call === undefined) return { outcome: { exitCode: 1, stdout: '' }, what: 'truncated request' };
  const { CNI_COMMAND: command = '?', CNI_CONTAINERID: container = '-', CNI_IFNAME: ifname = '-' } = call.env;
  const what = `${command} ${container} ${ifname}`;
  try {
    return { outcome: await runCni(call.env, call.stdin), what };
  } catch (e) {
    // runCni turns every failure into an error reply; this is for its own bugs, which must not stop the server.
    return { outcome: { exitCode: 1, stdout: JSON.stringify(cniErrorBody(e, LATEST_VERSION)) }, what };
  }
};

const serveConnection = (conn: Socket, log: (line: string) => void): void => {
  const chunks: Buffer[] = [];
  conn.on('data', (chunk: Buffer) => chunks.push(chunk));
  conn.on('error', (e) => log(`cni call: connection failed: ${e.message}`));
  conn.on('end', () => {
    const started = performance.now();
    void answer(Buffer.concat(chunks)).then(({ outcome, what }) => {
      conn.end(encodeReply(outcome));
      log(`${what}: exit ${outcome.exitCode} in ${(performance.now() - started).toFixed(1)} ms`);
    });
  });
};

/** sd_listen_fds(3): systemd hands over the socket it listens on as fd 3 and names our PID. */
const SD_LISTEN_FDS_START = 3;
const activatedSocket = (env: CniServerOptions['env']): number | undefined =>
  env['LISTEN_PID'] === String(process.pid) && env['LISTEN_FDS'] === '1' ? SD_LISTEN_FDS_START : undefined;

export interface CniServer {
  /** Stops accepting calls; resolves once the calls in progress have replied. */
  stop(): Promise<void>;
}

/** Resolves once the server listens. */
export async function startCniServer(opts: CniServerOptions): Promise<CniServer> {
  const server = createServer({ allowHalfOpen: true }, (conn) => serveConnection(conn, opts.log));
  const inherited = activatedSocket(opts.env);
  if (inherited === undefined) {
    await claimSocketPath(opts.socketPath, '--socket');
    await listenOn(server, { path: opts.socketPath });
    opts.log(`listening on ${opts.socketPath}`);
  } else {
    await listenOn(server, { fd: inherited });
    opts.log(`listening on the socket systemd passed (${opts.socketPath})`);
  }
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        // New wrappers fall back to running the plugin themselves from the moment the path is gone.
        // systemd's socket stays: it starts us again on the next call.
        if (inherited === undefined) unlinkSync(opts.socketPath);
        server.close(() => resolve());
      }),
  };
}
