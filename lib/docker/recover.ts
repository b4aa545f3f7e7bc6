/**
 * What the Docker role does when it starts, before it answers anything: Docker's calls that were
 * in flight when the daemon died have failed on Docker's side (Docker replays nothing), so what
 * they had begun is taken down, as the failed call would have done; networks still without their
 * Docker name get it. (Interfaces Docker placed meanwhile are found by the placer, placer.ts.)
 */
import type { ServiceContext } from '../service/context.js';
import { removeEndpointsLocked } from '../service/endpoints.js';
import { removeNetworkLocked } from '../service/networks.js';
import type { NameLearner } from './names.js';
import { DOCKER_NETWORK_LABEL, provisionalName } from './options.js';

export const recoverDocker = (ctx: ServiceContext, learner: NameLearner, log: (line: string) => void): Promise<void> =>
  ctx.repo.withHostLock(async () => {
    const networks = (await ctx.repo.listNetworks()).filter((n) => n.labels[DOCKER_NETWORK_LABEL] !== undefined);
    for (const n of networks.filter((x) => x.phase === 'creating')) {
      log(`network ${n.name}: its CreateNetwork did not finish before the daemon stopped; removing it`);
      await removeNetworkLocked(ctx, n.name, true);
    }
    const endpoints = (await ctx.repo.listEndpoints()).filter((e) => e.owner.kind === 'docker');
    const unfinished = endpoints.filter((e) => e.phase === 'creating');
    if (unfinished.length > 0) {
      log(`${unfinished.length} endpoint(s) whose CreateEndpoint did not finish before the daemon stopped; removing them`);
      await removeEndpointsLocked(ctx, unfinished);
    }
    for (const n of networks) {
      const id = n.labels[DOCKER_NETWORK_LABEL];
      if (id !== undefined && n.phase === undefined && n.name === provisionalName(id)) learner.learn(id);
    }
  });
