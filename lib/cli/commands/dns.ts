/**
 * `tnet dns serve`: the daemon with its DNS role alone (the DNS server of every tnet network on
 * this host), in the foreground until SIGTERM/SIGINT; `tnet daemon` runs it with the other roles.
 */
import { ROLES } from '../../daemon/roles/index.js';
import type { CliCommand } from '../command.js';
import { runRoles, withDnsOptions } from './daemon.js';

export const dnsCommand: CliCommand = {
  command: 'dns <action>',
  describe: 'DNS for containers: serve answers their names on every network\'s gateway (the daemon\'s dns role alone; foreground, stops on SIGTERM/SIGINT)',
  builder: (y) =>
    withDnsOptions(y)
      .positional('action', { choices: ['serve'] as const, describe: 'serve: run the DNS server in this process' })
      .example('$0 dns serve', 'containers resolve each other by name through their gateway'),
  run: (args, env) => runRoles(args, env, [ROLES.dns], {}),
};
