/**
 * `tnet cni install [--dir /opt/cni/bin]`: puts the plugin where runtimes look.
 * `tnet cni conflist NET`: prints a conflist for a network (save it in /etc/cni/net.d or
 * Podman's network_config_dir).
 * `tnet cni serve`: the daemon with only its CNI role: does the installed plugin's calls in one
 * warm process (lib/cni/serve.ts).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { conflistFor, pluginWrapper } from '../../cni/install.js';
import { PLUGIN_TYPE } from '../../cni/netconf.js';
import { isSupportedVersion, SUPPORTED_VERSIONS } from '../../cni/versions.js';
import { DEFAULT_CNI_SOCKET } from '../../cni/wire.js';
import { cniRole } from '../../daemon/roles/cni.js';
import { CNI_SOCKET_UNIT } from '../../daemon/units.js';
import { TnetError } from '../../errors.js';
import { DEFAULT_STATE_DIR } from '../../host-config.js';
import { optionalString } from '../args.js';
import { printJson, type CliCommand } from '../command.js';
import { requireCompiled, writeReplacing } from './compiled.js';
import { runRoles, START_UNITS_HINT, writeDaemonUnits } from './daemon.js';

export const DEFAULT_CNI_BIN_DIR = '/opt/cni/bin';

const install = (dir: string, plugin: string, socket: string): string[] => {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const target = join(dir, PLUGIN_TYPE);
  writeReplacing(target, pluginWrapper([process.execPath, resolve(plugin)], socket), 0o755);
  return [target];
};

export const cniCommand: CliCommand = {
  command: 'cni <action> [network]',
  describe: 'CNI plugin: install it for container runtimes, or print a conflist for a network',
  builder: (y) =>
    y
      .positional('action', {
        choices: ['install', 'conflist', 'serve'] as const,
        describe: 'install: write the plugin; conflist: print one for NETWORK; serve: do the plugin\'s calls in this process (foreground, stops on SIGTERM/SIGINT)',
      })
      .positional('network', { type: 'string', describe: 'Network for conflist' })
      .option('dir', { type: 'string', default: DEFAULT_CNI_BIN_DIR, describe: 'install: directory runtimes search for plugins' })
      .option('plugin', { type: 'string', describe: 'install: the compiled plugin to run (default: the one of this tnet)' })
      .option('systemd-dir', { type: 'string', describe: `install: also write the daemon's units there (${CNI_SOCKET_UNIT} and tnet.service, e.g. /etc/systemd/system), so systemd starts \`tnet daemon\` at boot or on the first call` })
      .option('socket', { type: 'string', default: DEFAULT_CNI_SOCKET, describe: 'install, serve: where `tnet cni serve` listens and the plugin looks for it' })
      .option('cni-version', { type: 'string', describe: `conflist: cniVersion to write (${SUPPORTED_VERSIONS.join(', ')})` })
      .example('$0 cni install', `write ${DEFAULT_CNI_BIN_DIR}/tnet`)
      .example('$0 cni conflist web > /etc/cni/net.d/web.conflist', 'let runtimes attach containers to network web')
      .example('$0 cni serve', 'make every plugin call skip starting node (needs socat)'),
  run: async (args, env) => {
    if (args['action'] === 'serve') return runRoles(args, env, [cniRole], { cniSocket: String(args['socket']) });
    if (args['action'] === 'install') {
      const socket = resolve(String(args['socket']));
      const unitDir = optionalString(args, 'systemd-dir');
      const installed = [
        ...install(String(args['dir']), optionalString(args, 'plugin') ?? requireCompiled('tnet-cni', 'run `npm run build` or pass --plugin'), socket),
        ...(unitDir === undefined ? [] : writeDaemonUnits(args, unitDir, socket)),
      ];
      if (env.json) printJson(env, { installed });
      else env.io.out(installed.map((f) => `installed ${f}`).join('\n'));
      if (unitDir !== undefined && !env.json) env.io.out(START_UNITS_HINT);
      return 0;
    }
    const name = optionalString(args, 'network');
    if (name === undefined) throw new TnetError('invalidInput', 'cni conflist needs a network name: tnet cni conflist NETWORK');
    const version = optionalString(args, 'cni-version');
    if (version !== undefined && !isSupportedVersion(version)) {
      throw new TnetError('invalidInput', `--cni-version ${version} is not supported; use one of ${SUPPORTED_VERSIONS.join(', ')}`);
    }
    const { ctx } = await env.app();
    const network = await ctx.repo.requireNetwork(name);
    const stateDir = String(args['state-dir']);
    const store = optionalString(args, 'store');
    const hostNetns = optionalString(args, 'host-netns');
    printJson(env, conflistFor(network, {
      ...(version === undefined ? {} : { cniVersion: version }),
      ...(stateDir === DEFAULT_STATE_DIR ? {} : { stateDir: resolve(stateDir) }),
      ...(store === undefined ? {} : { store }),
      ...(hostNetns === undefined ? {} : { hostNetns }),
    }));
    return 0;
  },
};
