/**
 * The `tnet` command line, modelled on `docker network`. Every command has --json and --help;
 * errors print one clear line and return the exit code of their kind. Nothing here exits the
 * process: bin/tnet.ts does, with the code this returns.
 */
import yargs from 'yargs';
import { openApp, type App, type AppOptions } from '../app.js';
import { exitCodeOf, toTnetError } from '../errors.js';
import { hostDefaults, type HostDefaults } from '../host-config.js';
import type { Args } from './args.js';
import type { CliCommand, CommandEnv } from './command.js';
import { agentCommand } from './commands/agent.js';
import { applyCommand, diffCommand } from './commands/apply.js';
import { cniCommand } from './commands/cni.js';
import { connectCommand } from './commands/connect.js';
import { createCommand } from './commands/create.js';
import { daemonCommand } from './commands/daemon.js';
import { disconnectCommand } from './commands/disconnect.js';
import { dnsCommand } from './commands/dns.js';
import { doctorCommand } from './commands/doctor.js';
import { hostCommand } from './commands/host.js';
import { inspectCommand } from './commands/inspect.js';
import { lsCommand } from './commands/ls.js';
import { portCommand } from './commands/port.js';
import { pruneCommand } from './commands/prune.js';
import { rmCommand } from './commands/rm.js';
import { processIo, type CliIo } from './io.js';
import { withStepPoints } from '../step-points.js';

const COMMANDS: readonly CliCommand[] = [
  createCommand, lsCommand, inspectCommand, rmCommand, pruneCommand,
  connectCommand, disconnectCommand, portCommand, applyCommand, diffCommand,
  hostCommand, daemonCommand, agentCommand, cniCommand, dnsCommand, doctorCommand,
];

const USAGE_EXIT = 2;

export const runCli = async (
  argv: readonly string[],
  io: CliIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
  appOptions: Pick<AppOptions, 'openStore'> = {},
): Promise<number> => {
  let exitCode = 0;
  let app: App | undefined;
  const reportError = (e: unknown, json: boolean): number => {
    const err = toTnetError(e, 'internal error');
    io.err(json ? JSON.stringify({ error: { kind: err.kind, message: err.message } }) : `tnet: ${err.message}`);
    return exitCodeOf(err.kind);
  };

  let defaults: HostDefaults;
  try {
    defaults = hostDefaults(env);
  } catch (e) {
    return reportError(e, argv.includes('--json'));
  }

  const parser = yargs([...argv])
    .scriptName('tnet')
    .usage('$0 <command> [options]\n\nContainer networks on Linux: bridge, host and none drivers over rtnetlink and nftables.')
    .option('state-dir', { type: 'string', describe: 'Where the embedded store keeps its state (or TNET_STATE_DIR, or "stateDir" in /etc/tnet/config.json)', default: defaults.stateDir })
    .option('store', { type: 'string', describe: 'Shared store, e.g. etcd://h1:2379,h2:2379 (or TNET_STORE, or "store" in /etc/tnet/config.json; default: embedded local store)', default: defaults.store })
    .option('host-netns', { type: 'string', describe: 'Act on this network namespace as the host (labs, tests)', default: env['TNET_HOST_NETNS'] })
    .option('json', { type: 'boolean', describe: 'Machine-readable output', default: false })
    .strict()
    .demandCommand(1, 'Name a command; see tnet --help')
    .recommendCommands()
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    });

  for (const c of COMMANDS) {
    parser.command({
      command: c.command,
      aliases: [...(c.aliases ?? [])],
      describe: c.describe,
      builder: c.builder,
      handler: async (raw: Args) => {
        const json = raw['json'] === true;
        const commandEnv: CommandEnv = {
          io,
          json,
          app: async () => {
            app ??= await openApp({
              stateDir: String(raw['state-dir']),
              ...(raw['store'] === undefined ? {} : { storeUrl: String(raw['store']) }),
              ...(raw['host-netns'] === undefined ? {} : { hostNetns: String(raw['host-netns']) }),
              ...withStepPoints(env),
              ...appOptions,
            });
            return app;
          },
        };
        try {
          exitCode = await c.run(raw, commandEnv);
        } catch (e) {
          exitCode = reportError(e, json);
        }
      },
    });
  }

  try {
    await parser.parseAsync();
  } catch (e) {
    io.err(`tnet: ${e instanceof Error ? e.message : String(e)}`);
    exitCode = USAGE_EXIT;
  } finally {
    await app?.close();
  }
  return exitCode;
};
