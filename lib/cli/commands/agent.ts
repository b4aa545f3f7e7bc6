/** `tnet agent`: the daemon with its overlay-agent and drift-repair roles, as lab hosts run it. */
import { agentRole } from '../../daemon/roles/agent.js';
import { repairRole } from '../../daemon/roles/repair.js';
import { requireSelf } from '../../service/cluster.js';
import type { CliCommand } from '../command.js';
import { positiveSeconds, runRoles } from './daemon.js';

export const agentCommand: CliCommand = {
  command: 'agent',
  describe: 'Run the daemon\'s overlay agent and drift repair in the foreground (tnet daemon --roles repair,agent; stops on SIGTERM/SIGINT)',
  builder: (y) =>
    y
      .option('lease-ttl', { type: 'number', default: 10, describe: 'Seconds after which other hosts consider this one gone if the agent stops' })
      .option('resync', { type: 'number', default: 30, describe: 'Seconds between full passes (the backstop for lost events and missed updates)' }),
  run: async (args, env) => {
    // Asked for by name, the agent must run: on a host in no cluster that is an error, not a role left off.
    requireSelf((await env.app()).ctx, 'tnet agent');
    return runRoles(args, env, [repairRole, agentRole], { resyncSeconds: positiveSeconds(args, 'resync') });
  },
};
