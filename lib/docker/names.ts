/**
 * A network Docker made gets the name the user gave it. CreateNetwork carries only Docker's id,
 * so the network is created as docker-<id>, and renamed (one commit: kernel objects derive from
 * ids, not names) as soon as Docker's API knows the network, a few milliseconds after tnet
 * answered. A name tnet cannot take (another tnet network has it, or tnet does not allow it)
 * leaves the provisional one, and says so.
 */
import { isTnetError } from '../errors.js';
import { validateNetworkName } from '../model/names.js';
import type { ServiceContext } from '../service/context.js';
import { dockerNetworkName } from './docker-api.js';
import { DOCKER_NETWORK_LABEL, provisionalName } from './options.js';

/** How long to wait before each look: Docker stores the network right after our answer. */
const LOOKS_MS = [2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 4_000];

export interface NameLearner {
  learn(networkId: string): void;
  stop(): void;
}

const renameTo = (ctx: ServiceContext, networkId: string, name: string): Promise<string> =>
  ctx.repo.withHostLock(async () => {
    const networks = await ctx.repo.listNetworks();
    const network = networks.find((n) => n.labels[DOCKER_NETWORK_LABEL] === networkId);
    if (network === undefined || network.name === name) return 'done';
    if (network.phase !== undefined || network.name !== provisionalName(networkId)) return `left as ${network.name}`;
    try {
      validateNetworkName(name);
    } catch (e) {
      return `kept as ${network.name}: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (networks.some((n) => n.name === name)) return `kept as ${network.name}: tnet network "${name}" exists already (to use that one, create the Docker network with -o tnet.network=${name})`;
    try {
      await ctx.repo.renameNetwork(network, name);
      return `named ${name}`;
    } catch (e) {
      if (isTnetError(e, 'conflict')) return `kept as ${network.name}: ${e.message}`;
      throw e;
    }
  });

export const nameLearner = (ctx: ServiceContext, dockerSocket: string, log: (line: string) => void): NameLearner => {
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const look = (networkId: string, attempt: number): void => {
    const wait = LOOKS_MS[attempt];
    if (stopped) return;
    if (wait === undefined) return log(`network ${provisionalName(networkId)}: Docker's API at ${dockerSocket} did not say its name; it keeps this one`);
    const t = setTimeout(() => {
      timers.delete(t);
      void dockerNetworkName(dockerSocket, networkId)
        .then(async (name) => {
          if (name === undefined) return look(networkId, attempt + 1);
          if (!stopped) log(`network ${provisionalName(networkId)}: ${await renameTo(ctx, networkId, name)}`);
        })
        .catch((e: unknown) => log(`network ${provisionalName(networkId)}: naming it failed: ${e instanceof Error ? e.message : String(e)}`));
    }, wait);
    timers.add(t);
  };
  return {
    learn: (networkId) => look(networkId, 0),
    stop: () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
};
