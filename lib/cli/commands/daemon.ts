/**
 * `tnet daemon [run]`: the host daemon in the foreground (lib/daemon/). `tnet daemon status`: what
 * the daemon serving this state dir does. `tnet daemon install --systemd-dir DIR`: its units.
 * `tnet agent` and `tnet cni serve` are the same daemon with fewer roles (runRoles).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { queryDaemon } from '../../daemon/control.js';
import { runDaemon } from '../../daemon/daemon.js';
import type { DaemonOptions, Role } from '../../daemon/role.js';
import { parseRoles, ROLE_NAMES } from '../../daemon/roles/index.js';
import { CNI_SOCKET_UNIT, DAEMON_SERVICE_UNIT, daemonUnits } from '../../daemon/units.js';
import { DEFAULT_CNI_SOCKET } from '../../cni/wire.js';
import { DEFAULT_DOCKER_HOST, DEFAULT_DOCKER_SOCKET } from '../../daemon/roles/docker.js';
import { DEFAULT_RESOLV_CONF } from '../../dns/service.js';
import type { Argv } from 'yargs';
import { TnetError } from '../../errors.js';
import { DEFAULT_STATE_DIR } from '../../host-config.js';
import { optionalString, type Args } from '../args.js';
import { printJson, type CliCommand, type CommandEnv } from '../command.js';
import { serviceLog } from '../io.js';
import { runUntilStopped } from '../until-stopped.js';
import { requireCompiled, writeReplacing } from './compiled.js';
import { formatDaemonStatus } from './daemon-status.js';

export const DEFAULT_RESYNC_SECONDS = 300;

/** The DNS role's settings from the flags `daemon` and `dns serve` share. */
const dnsOptions = (args: Args): DaemonOptions['dns'] => ({
  resolvConf: String(args['resolv-conf'] ?? DEFAULT_RESOLV_CONF),
  port: Number(args['dns-port'] ?? 53),
  upstreamPort: Number(args['dns-upstream-port'] ?? 53),
});

/** The flags of the DNS role, for every command that runs it. */
export const withDnsOptions = <T>(y: Argv<T>): Argv<T> =>
  y
    .option('resolv-conf', { type: 'string', default: DEFAULT_RESOLV_CONF, describe: 'dns: where the upstream nameservers for other names are read (re-read when it changes)' })
    .option('dns-port', { type: 'number', default: 53, hidden: true, describe: 'dns: port to listen on (tests)' })
    .option('dns-upstream-port', { type: 'number', default: 53, hidden: true, describe: 'dns: port of the upstream nameservers (tests)' });

/** Runs the daemon with these roles until SIGTERM/SIGINT (what `daemon`, `agent`, `cni serve` and `dns serve` share). */
export const runRoles = async (args: Args, env: CommandEnv, roles: readonly Role[], o: { resyncSeconds?: number; cniSocket?: string; dockerSocket?: string; dockerHost?: string }): Promise<number> => {
  const log = serviceLog(env.io);
  const storeUrl = optionalString(args, 'store');
  await runUntilStopped(
    (signal) =>
      runDaemon({
        roles,
        log,
        signal,
        openCtx: async () => (await env.app()).ctx,
        options: {
          stateDir: resolve(String(args['state-dir'])),
          ...(storeUrl === undefined ? {} : { storeUrl }),
          resyncMs: (o.resyncSeconds ?? DEFAULT_RESYNC_SECONDS) * 1000,
          leaseTtlSeconds: Number(args['lease-ttl'] ?? 10),
          cniSocket: resolve(o.cniSocket ?? DEFAULT_CNI_SOCKET),
          dockerSocket: o.dockerSocket === '' ? '' : resolve(o.dockerSocket ?? DEFAULT_DOCKER_SOCKET),
          dockerHost: o.dockerHost ?? DEFAULT_DOCKER_HOST,
          dns: dnsOptions(args),
          env: process.env,
        },
      }),
    (name) => log(`${name}, stopping`),
  );
  return 0;
};

export const positiveSeconds = (args: Args, key: string): number => {
  const v = Number(args[key]);
  if (!Number.isFinite(v) || v <= 0) throw new TnetError('invalidInput', `--${key} ${String(args[key])} is not allowed: give a number of seconds above 0`);
  return v;
};

/** The units for this tnet, running the daemon as these arguments ask (`daemon install`, `cni install`). */
export const writeDaemonUnits = (args: Args, dir: string, cniSocket: string): string[] => {
  const stateDir = String(args['state-dir']);
  const store = optionalString(args, 'store');
  const roles = optionalString(args, 'roles') ?? ROLE_NAMES.join(',');
  const resync = args['resync'] === undefined ? DEFAULT_RESYNC_SECONDS : positiveSeconds(args, 'resync');
  parseRoles(roles);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const units = daemonUnits({
    cli: [process.execPath, requireCompiled('tnet', 'run `npm run build`')],
    global: [...(stateDir === DEFAULT_STATE_DIR ? [] : ['--state-dir', resolve(stateDir)]), ...(store === undefined ? [] : ['--store', store])],
    daemon: [...(roles === ROLE_NAMES.join(',') ? [] : ['--roles', roles]), ...(resync === DEFAULT_RESYNC_SECONDS ? [] : ['--resync', String(resync)])],
  }, resolve(cniSocket));
  return Object.entries(units).map(([name, text]) => {
    writeReplacing(join(dir, name), text, 0o644);
    return join(dir, name);
  });
};

export const START_UNITS_HINT = `start it with: systemctl daemon-reload && systemctl enable --now ${CNI_SOCKET_UNIT} ${DAEMON_SERVICE_UNIT}`;

const install = (args: Args, env: CommandEnv): number => {
  const dir = optionalString(args, 'systemd-dir');
  if (dir === undefined) throw new TnetError('invalidInput', 'daemon install needs --systemd-dir DIR (e.g. /etc/systemd/system)');
  const written = writeDaemonUnits(args, dir, String(args['cni-socket']));
  if (env.json) printJson(env, { installed: written });
  else env.io.out([...written.map((f) => `installed ${f}`), START_UNITS_HINT].join('\n'));
  return 0;
};

export const daemonCommand: CliCommand = {
  command: 'daemon [action]',
  describe: 'The host daemon: drift repair from kernel events, the overlay agent, the warm CNI socket, DNS for containers, the Docker plugin (run: foreground, stops on SIGTERM/SIGINT; status; install)',
  builder: (y) =>
    withDnsOptions(y)
      .positional('action', { choices: ['run', 'status', 'install'] as const, default: 'run', describe: 'run (the default), status, or install its systemd units' })
      .option('roles', { type: 'string', default: ROLE_NAMES.join(','), describe: `Roles to run, from ${ROLE_NAMES.join(', ')} (the agent is left off on a host in no cluster)` })
      .option('resync', { type: 'number', default: DEFAULT_RESYNC_SECONDS, describe: 'Seconds between full passes, the backstop for lost events' })
      .option('lease-ttl', { type: 'number', default: 10, describe: 'agent: seconds after which other hosts consider this one gone if the daemon stops' })
      .option('cni-socket', { type: 'string', default: DEFAULT_CNI_SOCKET, describe: 'cni: where the installed plugin hands its calls over' })
      .option('docker-socket', { type: 'string', default: DEFAULT_DOCKER_SOCKET, describe: "docker: the plugin socket dockerd discovers (its file name is the driver's: tnet.sock -> -d tnet)" })
      .option('docker-host', { type: 'string', default: DEFAULT_DOCKER_HOST, describe: "docker: dockerd's API, where the names of the networks it makes are read" })
      .option('systemd-dir', { type: 'string', describe: `install: write ${DAEMON_SERVICE_UNIT} and ${CNI_SOCKET_UNIT} here (e.g. /etc/systemd/system)` })
      .example('$0 daemon', 'keep this host converged (foreground)')
      .example('$0 daemon status', 'roles, recent repairs, what waits')
      .example('$0 daemon install --systemd-dir /etc/systemd/system', 'run it at boot'),
  run: async (args, env) => {
    if (args['action'] === 'install') return install(args, env);
    if (args['action'] === 'status') {
      const stateDir = resolve(String(args['state-dir']));
      const status = await queryDaemon(stateDir);
      if (status === undefined) throw new TnetError('notFound', `no tnet daemon serves state dir ${stateDir} (start one with 'tnet daemon')`);
      if (env.json) printJson(env, status);
      else env.io.out(formatDaemonStatus(status));
      return 0;
    }
    return runRoles(args, env, parseRoles(String(args['roles'])), {
      resyncSeconds: positiveSeconds(args, 'resync'),
      cniSocket: String(args['cni-socket']),
      dockerSocket: String(args['docker-socket']),
      dockerHost: String(args['docker-host']),
    });
  },
};
