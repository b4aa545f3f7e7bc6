/**
 * The CNI plugin and the CLI as real processes: a transpiled copy of lib/ and bin/, and a plugin
 * wrapper named `tnet` in a bin dir (what `tnet cni install` writes), for tests that make many
 * plugin processes race or hand the plugin to a real container runtime.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pluginWrapper } from '../../lib/cni/install.js';
import { transpileTree } from './transpile.js';

export interface Exec {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CniPlugin {
  /** Directory holding the `tnet` wrapper (a CNI_PATH / cni_plugin_dirs entry). */
  readonly binDir: string;
  readonly plugin: string;
  readonly cli: string;
  /** Where the wrapper offers its calls to `tnet cni serve`. */
  readonly socket: string;
  /** Runs one plugin call: CNI_COMMAND etc. in env, the config as stdin. */
  call(command: string, env: Record<string, string>, conf: unknown): Promise<Exec & { readonly json: unknown }>;
  /** Runs the CLI (`node tnet.js ...args`). */
  tnet(...args: string[]): Promise<Exec>;
  /** Starts `tnet cni serve` on the wrapper's socket; until it stops, calls go through it. */
  serve(): Promise<CniServer>;
  remove(): void;
}

export interface CniServer {
  readonly socket: string;
  /** What the server logged so far (one line per call). */
  log(): string;
  /** SIGTERM by PID; resolves with the exit code. */
  stop(): Promise<number>;
  /** SIGKILL by PID, leaving its socket file behind as a crash would. */
  kill(): Promise<void>;
}

export const execFile = (cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<Exec> =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A command that exits before reading its stdin (EPIPE) still answers with its exit code.
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
  });

const startServer = (cli: string, socket: string, running: Set<ChildProcess>): Promise<CniServer> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'cni', 'serve', '--socket', socket], { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    let log = '';
    const exited = new Promise<number>((done) => child.once('exit', (code, signal) => done(code ?? (signal === null ? -1 : 128))));
    const stopWith = async (signal: NodeJS.Signals): Promise<number> => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    };
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('cni: listening on')) resolve({ socket, log: () => log, stop: () => stopWith('SIGTERM'), kill: async () => void (await stopWith('SIGKILL')) });
    });
    void exited.then((code) => reject(new Error(`tnet cni serve exited with ${code} before listening: ${log}`)));
  });

export const buildCniPlugin = (): CniPlugin => {
  const tree = transpileTree('cnibuild', ['lib', 'bin']);
  const binDir = join(tree.dir, 'cni-bin');
  mkdirSync(binDir);
  const plugin = join(binDir, 'tnet');
  // A space in the socket's path checks the wrapper's quoting. No server listens until serve().
  const socket = join(tree.dir, 'run dir', 'cni.sock');
  writeFileSync(plugin, pluginWrapper([process.execPath, join(tree.dir, 'bin/tnet-cni.js')], socket));
  chmodSync(plugin, 0o755);
  const cli = join(tree.dir, 'bin/tnet.js');
  const servers = new Set<ChildProcess>();
  const base = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TNET_CONFIG: '' }; // never this machine's /etc/tnet
  return {
    binDir,
    plugin,
    cli,
    socket,
    call: async (command, env, conf) => {
      const r = await execFile(plugin, [], { ...base, CNI_COMMAND: command, CNI_PATH: binDir, ...env }, typeof conf === 'string' ? conf : JSON.stringify(conf));
      let json: unknown;
      try {
        json = r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout);
      } catch {
        json = undefined;
      }
      return { ...r, json };
    },
    tnet: (...args) => execFile(process.execPath, [cli, ...args], base),
    serve: () => startServer(cli, socket, servers),
    remove: () => {
      // A test that failed half-way may not have stopped its server.
      for (const child of servers) child.kill('SIGKILL');
      tree.remove();
    },
  };
};
