import { hostname } from 'node:os';
import { joinHost, leaveHost, listHosts } from '../../service/hosts.js';
import { optionalString } from '../args.js';
import { printJson, type CliCommand } from '../command.js';
import { table } from '../io.js';

export const hostCommand: CliCommand = {
  command: 'host <action>',
  describe: 'Cluster membership for overlay networks: join, ls, leave',
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['join', 'ls', 'leave'] })
      .option('vtep', { type: 'string', describe: 'join: this host\'s underlay address that VXLAN packets leave from' })
      .option('name', { type: 'string', describe: 'join: the host\'s name in the cluster (default: the hostname)' })
      .example('$0 --store etcd://10.0.0.1:2379 host join --vtep 10.0.0.11 --name h1', 'join the cluster')
      .example('$0 host ls', 'hosts and whether their agent is alive'),
  run: async (args, env) => {
    const { ctx } = await env.app();
    switch (args['action']) {
      case 'join': {
        const vtep = optionalString(args, 'vtep');
        if (vtep === undefined) {
          env.io.err('tnet: host join needs --vtep ADDRESS (the underlay address of this host)');
          return 2;
        }
        const record = await joinHost(ctx, { name: optionalString(args, 'name') ?? hostname(), vtep });
        if (env.json) printJson(env, record);
        else env.io.out(`joined as ${record.name} (VTEP ${record.vtep}); start 'tnet daemon' (or restart it) to keep this host alive in the cluster`);
        return 0;
      }
      case 'leave': {
        const name = await leaveHost(ctx);
        if (env.json) printJson(env, { left: name });
        else env.io.out(`${name} left the cluster`);
        return 0;
      }
      default: {
        const hosts = await listHosts(ctx);
        if (env.json) printJson(env, hosts);
        else env.io.out(table(['NAME', 'VTEP', 'STATE'], hosts.map((h) => [`${h.name}${h.self ? ' *' : ''}`, h.vtep, h.state])));
        return 0;
      }
    }
  },
};
