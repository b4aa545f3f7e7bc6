/**
 * `tnet dns serve`: the DNS server of every tnet network on this host, in the foreground, until
 * SIGTERM/SIGINT (lib/dns/service.ts; `tnet daemon` will run the same role).
 */
import { DEFAULT_RESOLV_CONF, startDnsService } from '../../dns/service.js';
import type { CliCommand } from '../command.js';
import { serviceLog } from '../io.js';
import { runUntilStopped } from '../until-stopped.js';

export const dnsCommand: CliCommand = {
  command: 'dns <action>',
  describe: 'DNS for containers: serve answers their names on every network\'s gateway (foreground, stops on SIGTERM/SIGINT)',
  builder: (y) =>
    y
      .positional('action', { choices: ['serve'] as const, describe: 'serve: run the DNS server in this process' })
      .option('resolv-conf', { type: 'string', default: DEFAULT_RESOLV_CONF, describe: 'Where the upstream nameservers for other names are read (re-read when it changes)' })
      .option('port', { type: 'number', default: 53, hidden: true, describe: 'Port to listen on (tests)' })
      .option('upstream-port', { type: 'number', default: 53, hidden: true, describe: 'Port of the upstream nameservers (tests)' })
      .example('$0 dns serve', 'containers resolve each other by name through their gateway'),
  run: async (args, env) => {
    const { ctx } = await env.app();
    const log = serviceLog(env.io);
    await runUntilStopped(async (signal) => {
      const service = await startDnsService(ctx, {
        resolvConf: String(args['resolv-conf']),
        port: Number(args['port']),
        upstreamPort: Number(args['upstream-port']),
        log,
      });
      log(`tnet dns serve: started, listening on ${service.addresses().length} address(es)`);
      await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
      await service.stop();
      log('tnet dns serve: stopped');
    }, (name) => log(`tnet dns serve: ${name}, stopping`));
    return 0;
  },
};
