import { printJson, type CliCommand } from '../command.js';
import { table } from '../io.js';
import { describeSubnets } from './create.js';
import type { Endpoint, Network } from '../../model/types.js';

/** Records an operation left half-done (it was killed): what to run to finish them. */
const interrupted = (networks: readonly Network[], endpoints: readonly Endpoint[]): string[] => [
  ...networks.filter((n) => n.phase !== undefined).map((n) =>
    n.phase === 'creating' ? `note: creating ${n.name} was interrupted; run the same 'tnet create' again to finish it, or 'tnet rm ${n.name}'` : `note: removing ${n.name} was interrupted; run 'tnet rm ${n.name}' again (or any command that changes something) to finish it`),
  ...endpoints.filter((e) => e.phase !== undefined).map((e) =>
    e.phase === 'creating' ? `note: connecting ${e.netns} to ${e.network} was interrupted; run the same 'tnet connect' again to finish it, or 'tnet disconnect'` : `note: disconnecting ${e.netns} from ${e.network} was interrupted; run 'tnet disconnect' again (or any command that changes something) to finish it`),
];

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
      for (const line of interrupted(networks, endpoints)) env.io.err(line);
    }
    return 0;
  },
};
