/**
 * Docker on a lab host for the Docker tests: a private dockerd 20.10 (scenarios/lab/dockerd.ts)
 * in the lab host's namespace, and a tnet daemon process with the docker role serving it (a
 * transpiled copy of the sources; kill -9 and restart are the tests' business). dockerd finds
 * plugins in /run/docker/plugins, which every dockerd on the machine shares, so the plugin's
 * socket there has a name of this run's own: that name is the driver's (`-d <driver>`).
 * Everything is stopped by PID and removed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createDockerd, importBusybox, PLUGINS_DIR, type Dockerd } from '../../scenarios/lab/dockerd.js';
import { createLabHost, type LabHost } from './lab-host.js';
import { TEST_NETNS_PREFIX } from './netns.js';
import { makeStateDir } from './state-dir.js';
import { transpileTree } from './transpile.js';

export interface TnetDaemonProc {
  readonly pid: number;
  log(): string;
  /** Resolves once it has exited, with the signal that ended it (null when it exited by itself). */
  readonly exited: Promise<NodeJS.Signals | null>;
  /** Resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface DockerLab {
  readonly lab: LabHost;
  readonly dockerd: Dockerd;
  /** The driver (and IPAM driver) name dockerd knows tnet by. */
  readonly driver: string;
  readonly pluginSocket: string;
  /** The tnet CLI as a process (for what a test does beside Docker). */
  readonly cli: string;
  daemon(): TnetDaemonProc;
  /** Starts the tnet daemon (again), with env added (the crash tests' step points); resolves once its plugin socket listens. */
  startDaemon(env?: Readonly<Record<string, string>>): Promise<TnetDaemonProc>;
  destroy(): Promise<void>;
}

export const startDockerLab = async (label: string): Promise<DockerLab> => {
  const lab = createLabHost(`${TEST_NETNS_PREFIX}${label}`);
  const tree = transpileTree(`${label}build`, ['lib', 'bin']);
  const state = makeStateDir(label);
  const driver = `${TEST_NETNS_PREFIX.replace(/[^a-z0-9]/g, '')}tnet${randomBytes(3).toString('hex')}`;
  const pluginSocket = join(PLUGINS_DIR, `${driver}.sock`);
  const cli = join(tree.dir, 'bin/tnet.js');
  const dockerd = createDockerd({ dir: state.dir, netns: lab.ns });
  const children = new Set<ChildProcess>();
  let current: TnetDaemonProc | undefined;

  const startDaemon = (env: Readonly<Record<string, string>> = {}): Promise<TnetDaemonProc> =>
    new Promise((resolve, reject) => {
      const args = [cli, '--host-netns', lab.ns, '--state-dir', lab.stateDir, 'daemon', '--roles', 'repair,docker', '--docker-socket', pluginSocket, '--docker-host', dockerd.host];
      const child = spawn(process.execPath, args, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TNET_CONFIG: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
      children.add(child);
      let log = '';
      const exited = new Promise<NodeJS.Signals | null>((done) => child.once('exit', (_code, signal) => (children.delete(child), done(signal))));
      const proc: TnetDaemonProc = {
        pid: child.pid ?? 0,
        log: () => log,
        exited,
        stop: async (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      };
      child.stderr?.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes(`listening on ${pluginSocket}`)) resolve(proc);
      });
      void exited.then(() => reject(new Error(`tnet daemon exited before serving: ${log}`)));
      current = proc;
    });

  try {
    await startDaemon();
    await dockerd.start();
    await importBusybox(dockerd, state.dir);
  } catch (e) {
    await dockerd.destroy();
    for (const c of children) c.kill('SIGKILL');
    lab.destroy();
    throw e;
  }
  return {
    lab,
    dockerd,
    driver,
    pluginSocket,
    cli,
    daemon: () => {
      if (current === undefined) throw new Error('no tnet daemon started');
      return current;
    },
    startDaemon,
    destroy: async () => {
      // Containers first, while the plugin still answers (Docker would wait 15 s per call).
      const ids = (await dockerd.docker('ps', '-aq')).stdout.split('\n').filter((s) => s !== '');
      if (ids.length > 0) await dockerd.docker('rm', '-f', ...ids);
      await dockerd.destroy();
      await current?.stop('SIGTERM');
      rmSync(pluginSocket, { force: true });
      state.remove();
      tree.remove();
      lab.destroy();
    },
  };
};
