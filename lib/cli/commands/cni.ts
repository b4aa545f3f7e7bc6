/**
 * `tnet cni install [--dir /opt/cni/bin]`: puts the plugin where runtimes look.
 * `tnet cni conflist NET`: prints a conflist for a network (save it in /etc/cni/net.d or
 * Podman's network_config_dir).
 * `tnet cni serve`: does the installed plugin's calls in one warm process (lib/cni/serve.ts).
 */
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conflistFor, pluginWrapper, SYSTEMD_SOCKET_UNIT, systemdUnits } from '../../cni/install.js';
import { PLUGIN_TYPE } from '../../cni/netconf.js';
import { serveCni } from '../../cni/serve.js';
import { isSupportedVersion, SUPPORTED_VERSIONS } from '../../cni/versions.js';
import { DEFAULT_CNI_SOCKET } from '../../cni/wire.js';
import { TnetError } from '../../errors.js';
import { DEFAULT_STATE_DIR } from '../../host-config.js';
import { optionalString } from '../args.js';
import { printJson, type CliCommand } from '../command.js';
import { serviceLog } from '../io.js';
import { runUntilStopped } from '../until-stopped.js';

export const DEFAULT_CNI_BIN_DIR = '/opt/cni/bin';

/**
 * Where a compiled entry (the plugin, the CLI) may sit, seen from this code, fastest first: next
 * to it when this code runs from the CLI bundle (dist/bin/tnet.bundle.cjs), or in dist/bin seen
 * from dist/lib/cli/commands when it runs as ES modules (the bundled launcher, else the ES entry).
 */
const candidatesFor = (entry: CompiledEntry): string[] => [`./${entry}.cjs`, `../../../bin/${entry}.cjs`, `../../../bin/${entry}.js`];

export type CompiledEntry = 'tnet' | 'tnet-cni';

/** The compiled entry of this tnet, for code at `here` (a file URL); undefined if there is none. */
export const findCompiled = (entry: CompiledEntry, here: string, exists: (path: string) => boolean = existsSync): string | undefined =>
  candidatesFor(entry).map((c) => fileURLToPath(new URL(c, here))).find(exists);

const requireCompiled = (entry: CompiledEntry, remedy: string): string => {
  const found = findCompiled(entry, import.meta.url);
  if (found === undefined) throw new TnetError('notFound', `cni install: no compiled ${entry} next to this tnet; ${remedy}`);
  return found;
};

/** Written aside and renamed: a runtime exec'ing the plugin meanwhile sees the old or the new one. */
const writeReplacing = (target: string, text: string, mode: number): void => {
  const tmp = `${target}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  chmodSync(tmp, mode);
  renameSync(tmp, target);
};

const install = (dir: string, plugin: string, socket: string): string[] => {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const target = join(dir, PLUGIN_TYPE);
  writeReplacing(target, pluginWrapper([process.execPath, resolve(plugin)], socket), 0o755);
  return [target];
};

const installUnits = (dir: string, socket: string): string[] => {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return Object.entries(systemdUnits([process.execPath, requireCompiled('tnet', 'run `npm run build`')], socket)).map(([name, text]) => {
    writeReplacing(join(dir, name), text, 0o644);
    return join(dir, name);
  });
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
      .option('systemd-dir', { type: 'string', describe: `install: also write the ${SYSTEMD_SOCKET_UNIT} and its service there (e.g. /etc/systemd/system), so systemd starts \`tnet cni serve\` on the first call` })
      .option('socket', { type: 'string', default: DEFAULT_CNI_SOCKET, describe: 'install, serve: where `tnet cni serve` listens and the plugin looks for it' })
      .option('cni-version', { type: 'string', describe: `conflist: cniVersion to write (${SUPPORTED_VERSIONS.join(', ')})` })
      .example('$0 cni install', `write ${DEFAULT_CNI_BIN_DIR}/tnet`)
      .example('$0 cni conflist web > /etc/cni/net.d/web.conflist', 'let runtimes attach containers to network web')
      .example('$0 cni serve', 'make every plugin call skip starting node (needs socat)'),
  run: async (args, env) => {
    if (args['action'] === 'serve') {
      const socketPath = resolve(String(args['socket']));
      await runUntilStopped((signal) => serveCni({ socketPath, env: process.env, signal, log: serviceLog(env.io) }));
      return 0;
    }
    if (args['action'] === 'install') {
      const socket = resolve(String(args['socket']));
      const unitDir = optionalString(args, 'systemd-dir');
      const installed = [
        ...install(String(args['dir']), optionalString(args, 'plugin') ?? requireCompiled('tnet-cni', 'run `npm run build` or pass --plugin'), socket),
        ...(unitDir === undefined ? [] : installUnits(unitDir, socket)),
      ];
      if (env.json) printJson(env, { installed });
      else env.io.out(installed.map((f) => `installed ${f}`).join('\n'));
      if (unitDir !== undefined && !env.json) env.io.out(`start it with: systemctl daemon-reload && systemctl enable --now ${SYSTEMD_SOCKET_UNIT}`);
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
