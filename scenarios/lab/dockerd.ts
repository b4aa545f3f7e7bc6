/**
 * A private dockerd (Debian's docker.io 20.10) on a lab host: run in that host's network
 * namespace (nsenter --net: the mount namespace stays this machine's, so Docker's container
 * namespaces under exec-root/netns can be opened by a tnet daemon running outside), with its
 * data-root, exec-root, socket, pidfile and key all in one directory, no bridge of its own and
 * (unless asked) no iptables, masquerade, forwarding or userland proxy. Started and stopped by
 * PID; containerd, which dockerd starts, goes with it on a clean stop, and the shims a kill -9
 * leaves are found by their command line naming this directory. Used by the Docker tests and the
 * Docker benchmark (../shared/RUNTIMES.md, DOCKER-PLUGIN-FACTS.md).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { startProc, type Proc } from './proc.js';

/** Debian's docker.io CLI; a newer one may sit earlier on PATH (/usr/local/bin). */
export const DOCKER_CLI = '/usr/bin/docker';
export const DOCKER_IMAGE = 'tnet-busybox';
/** Where every dockerd on the machine discovers plugins: a socket NAME.sock there is driver NAME. */
export const PLUGINS_DIR = '/run/docker/plugins';

const DRIVER_FLAGS = new Set(['-d', '--driver', '--ipam-driver']);

/** Docker arguments with the driver name `tnet` (after -d, --driver, --ipam-driver) replaced by this run's. */
export const dockerDriverArgs = (args: readonly string[], driver: string): string[] =>
  args.map((a, i) => (a === 'tnet' && DRIVER_FLAGS.has(args[i - 1] ?? '') ? driver : a));

export interface DockerdOptions {
  /** Private directory for everything of this dockerd (keep it short: socket paths live under it). */
  readonly dir: string;
  /** The network namespace (a name under /run/netns) dockerd runs in. */
  readonly netns: string;
  /** Docker's own bridge driver with its iptables rules and userland proxy (the benchmark's comparison). */
  readonly dockerNetworking?: boolean;
}

export interface Exec {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Dockerd {
  /** unix:// address of its API. */
  readonly host: string;
  readonly socket: string;
  docker(...args: string[]): Promise<Exec>;
  /** Like docker(), throwing with stderr when it fails; stdout trimmed. */
  ok(...args: string[]): Promise<string>;
  running(): boolean;
  /** Starts it (again, after stop()); resolves once its API answers. */
  start(): Promise<void>;
  /** SIGTERM (containers are stopped as on a shutdown) or SIGKILL (they are left running, as after a crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Stops it and every process it left (shims), by PID, and unmounts what it left mounted. */
  destroy(): Promise<void>;
  log(): string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const exec = (cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): Promise<Exec> =>
  new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });

const config = (o: DockerdOptions): Record<string, unknown> => ({
  'data-root': join(o.dir, 'data'),
  'exec-root': join(o.dir, 'exec'),
  pidfile: join(o.dir, 'docker.pid'),
  hosts: [`unix://${join(o.dir, 'docker.sock')}`],
  'deprecated-key-path': join(o.dir, 'key.json'),
  'storage-driver': 'overlay2',
  'log-level': 'warn',
  // No CAP_SYS_RESOURCE on this machine kind: the hard nofile limit cannot be raised.
  'default-ulimits': { nofile: { Name: 'nofile', Hard: 20000, Soft: 20000 } },
  ...(o.dockerNetworking === true
    ? { iptables: true, 'ip-masq': true, 'ip-forward': true, 'userland-proxy': true }
    : { bridge: 'none', iptables: false, 'ip-masq': false, 'ip-forward': false, 'userland-proxy': false }),
});

/** Mount points under dir, deepest first: what a killed dockerd leaves (overlays, netns files). */
const mountsUnder = (dir: string): string[] =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);

/**
 * PIDs of this dockerd's containerd and shims, which outlive it reparented: Docker's own programs
 * whose command line names dir. Not a tnet daemon serving it (its --docker-host names dir too):
 * its owner stops it, and cleanly.
 */
const processesUnder = (dir: string): number[] =>
  readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return /^(containerd|dockerd|docker-)/.test(basename(argv[0] ?? '')) && argv.some((a) => a.includes(dir)) ? [Number(p)] : [];
    } catch {
      return [];
    }
  });

export const createDockerd = (o: DockerdOptions): Dockerd => {
  mkdirSync(o.dir, { recursive: true });
  const file = join(o.dir, 'daemon.json');
  writeFileSync(file, JSON.stringify(config(o), null, 2));
  const socket = join(o.dir, 'docker.sock');
  const host = `unix://${socket}`;
  const logFile = join(o.dir, 'dockerd.log');
  let proc: Proc | undefined;
  let alive = false;
  const docker = (...args: string[]): Promise<Exec> => exec(DOCKER_CLI, ['-H', host, ...args]);
  const ok = async (...args: string[]): Promise<string> => {
    const r = await docker(...args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout.trim();
  };
  const launch = async (): Promise<boolean> => {
    proc = startProc(['nsenter', `--net=/run/netns/${o.netns}`, 'dockerd', '--config-file', file], { log: logFile });
    alive = true;
    void proc.exited.then(() => (alive = false));
    for (let i = 0; i < 600 && alive; i++) {
      if ((await docker('version', '--format', '{{.Server.Version}}')).code === 0) return true;
      await sleep(100);
    }
    return false;
  };
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    await proc?.stop(signal, 60_000);
    alive = false;
  };
  return {
    host,
    socket,
    docker,
    ok,
    running: () => alive,
    // Right after a kill -9, its containerd's pidfile may name a process still dying ("timeout
    // waiting for containerd to start"): a second start works.
    start: async () => {
      if (await launch()) return;
      await stop('SIGKILL');
      if (!(await launch())) throw new Error(`dockerd did not start; its log ends:\n${readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')}`);
    },
    stop,
    destroy: async () => {
      await stop('SIGTERM');
      for (const pid of processesUnder(o.dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      for (const m of mountsUnder(o.dir)) await exec('umount', ['-l', m]);
    },
    log: () => readFileSync(logFile, 'utf8'),
  };
};

/** A busybox image (no registry here), with a CGI that answers the client's address: `httpd -h /www`, GET /cgi-bin/ip. */
export const importBusybox = async (d: Dockerd, dir: string): Promise<void> => {
  const root = join(dir, 'rootfs');
  for (const sub of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run', 'var', 'usr/bin', 'usr/sbin', 'www/cgi-bin']) mkdirSync(join(root, sub), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  const applets = (await exec('/bin/busybox', ['--list'])).stdout.split('\n').filter((a) => a !== '' && a !== 'busybox');
  for (const a of applets) symlinkSync('/bin/busybox', join(root, 'bin', a));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(root, 'www/index.html'), 'hello from tnet\n');
  writeFileSync(join(root, 'www/cgi-bin/ip'), '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$REMOTE_ADDR"\n', { mode: 0o755 });
  const tar = join(dir, 'busybox.tar');
  const packed = await exec('tar', ['-C', root, '-cf', tar, '.']);
  if (packed.code !== 0) throw new Error(`tar: ${packed.stderr}`);
  await d.ok('import', '-c', 'CMD ["/bin/sh"]', tar, DOCKER_IMAGE);
};
