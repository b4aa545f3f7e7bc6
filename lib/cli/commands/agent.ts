import { runAgent } from '../../service/agent.js';
import type { CliCommand } from '../command.js';
import { serviceLog } from '../io.js';
import { runUntilStopped } from '../until-stopped.js';

export const agentCommand: CliCommand = {
  command: 'agent',
  describe: 'Run the host agent in the foreground: keep this host alive in the cluster and converge it to the store (stops on SIGTERM/SIGINT)',
  builder: (y) =>
    y
      .option('lease-ttl', { type: 'number', default: 10, describe: 'Seconds after which other hosts consider this one gone if the agent stops' })
      .option('resync', { type: 'number', default: 30, describe: 'Seconds between full passes (drift repair, missed events)' }),
  run: async (args, env) => {
    const { ctx } = await env.app();
    await runUntilStopped(
      (signal) =>
        runAgent(ctx, {
          leaseTtlSeconds: Number(args['lease-ttl']),
          resyncMs: Number(args['resync']) * 1000,
          log: serviceLog(env.io),
          signal,
        }),
      (name) => env.io.err(`tnet agent: ${name}, stopping`),
    );
    return 0;
  },
};
