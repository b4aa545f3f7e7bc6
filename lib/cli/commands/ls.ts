import { printJson, type CliCommand } from '../command.js';
import { table } from '../io.js';
import { describeSubnets } from './create.js';

export const lsCommand: CliCommand = {
  command: 'ls',
  aliases: ['list'],
  describe: 'List networks',
  builder: (y) => y.option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Only names' }),
  run: async (args, env) => {
    const { ctx } = await env.app();
    const networks = await ctx.repo.listNetworks();
    const endpoints = await ctx.repo.listEndpoints();
    const count = (name: string): number => endpoints.filter((e) => e.network === name).length;
    if (env.json) printJson(env, networks.map((n) => ({ ...n, endpoints: count(n.name) })));
    else if (args['quiet'] === true) env.io.out(networks.map((n) => n.name).join('\n'));
    else {
      const rows = networks.map((n) => [n.id.slice(0, 12), n.name, n.driver, describeSubnets(n), String(count(n.name))]);
      env.io.out(table(['NETWORK ID', 'NAME', 'DRIVER', 'SUBNETS', 'ENDPOINTS'], rows));
    }
    return 0;
  },
};
