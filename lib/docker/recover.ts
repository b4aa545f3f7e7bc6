/**
 * What the Docker role does when it starts, before it answers anything. Docker's calls that were
 * in flight when the daemon died have failed on Docker's side: Docker sends each once more, with
 * an empty body (refused, wire.ts), and then forgets what the call was about. It sends no
 * DeleteEndpoint for a CreateEndpoint that failed, and no DeleteEndpoint or DeleteNetwork again
 * for one that failed while it was removing a container or a network. So:
 *  - what an unfinished CreateNetwork or CreateEndpoint had begun is taken down, as the failed
 *    call would have done;
 *  - what Docker no longer has (dockerd's API is asked: a network it does not know, an endpoint
 *    its network does not list) is removed, as the DeleteNetwork or DeleteEndpoint that died would
 *    have done. When dockerd does not answer (it starts after tnet), nothing is removed for that;
 *    such an endpoint goes when Docker hands its address out again (driver-endpoints.ts) or with its network;
 *  - networks still without their Docker name get it.
 * Then, once Docker has had time to carry on after the calls it lost, an endpoint it made a
 * container's gateway meanwhile publishes its ports (takeOverGateways).
 * (Interfaces Docker placed meanwhile are found by the placer, placer.ts.)
 */
import { removeEndpointsLocked } from '../service/endpoints.js';
import { carriesDefaultRoute } from '../service/handover.js';
import { removeNetworkLocked } from '../service/networks.js';
import { dockerNetworks, type DockerNetworkView } from './docker-api.js';
import type { DriverContext } from './driver.js';
import { programLocked } from './driver-endpoints.js';
import { deleteNetworkLocked } from './driver-networks.js';
import type { NameLearner } from './names.js';
import { DOCKER_NETWORK_LABEL, provisionalName } from './options.js';

/**
 * What Docker no longer has, against what dockerd answers now; each is removed as its call would
 * have. On a shared store (a cluster) this dockerd knows only this host's endpoints: Docker
 * networks, pools and leases may be another host's dockerd's, so only this host's endpoints go.
 */
const dropForgotten = async (d: DriverContext, docker: ReadonlyMap<string, DockerNetworkView>, log: (line: string) => void): Promise<void> => {
  const self = d.ctx.identity?.get()?.name;
  const forgotten = (await d.ctx.repo.listEndpoints()).filter((e) => e.owner.kind === 'docker' && e.host === self && docker.get(e.owner.networkId)?.endpoints.has(e.owner.endpointId) !== true);
  if (forgotten.length > 0) {
    log(`${forgotten.length} endpoint(s) Docker no longer has (their DeleteEndpoint did not reach tnet); removing them`);
    await removeEndpointsLocked(d.ctx, forgotten);
  }
  if (self !== undefined) return;
  const made = (await d.ctx.repo.listNetworks()).flatMap((n) => n.labels[DOCKER_NETWORK_LABEL] ?? []);
  const attached = (await d.records.listAttachments()).map((a) => a.networkId);
  for (const id of new Set([...made, ...attached].filter((x) => !docker.has(x)))) {
    log(`Docker network ${id.slice(0, 12)} is gone from Docker (its DeleteNetwork did not reach tnet); removing what tnet had for it`);
    await deleteNetworkLocked(d, id);
  }
  // tnet's IPAM: pools and addresses Docker did not release because the release died.
  const views = [...docker.values()];
  for (const pool of await d.records.listPools()) {
    const users = views.filter((v) => v.subnets.includes(pool.subnet));
    if (users.length === 0) {
      log(`pool ${pool.id} (${pool.subnet}) belongs to no Docker network (its ReleasePool did not reach tnet); releasing it`);
      await d.records.releasePool(pool);
      continue;
    }
    const held = new Set(users.flatMap((v) => [...v.endpoints.values()].flat()));
    for (const address of await d.records.leasedAddresses(pool.subnet)) {
      if (!held.has(address)) await d.records.releaseLease(pool, address);
    }
  }
};

/**
 * When the gateway endpoint leaves a container that has others (disconnect), Docker routes the
 * container through the one taking over, then sends it ProgramExternalConnectivity; one that died
 * with the daemon is not sent again with its body, and Docker carries on. So an endpoint carrying
 * its namespace's default route where none is the gateway is Docker's gateway endpoint: it
 * publishes the ports its Join asked for, as that call would have. Only once Docker is done with
 * the calls it lost (server.ts waits): until then the endpoint being revoked may carry the route.
 */
export const takeOverGateways = (d: DriverContext, log: (line: string) => void): Promise<void> =>
  d.ctx.repo.withHostLock(async () => {
    const self = d.ctx.identity?.get()?.name;
    const placed = (await d.ctx.repo.listEndpoints()).filter((e) => e.owner.kind === 'docker' && e.host === self && e.handover?.state === 'placed');
    const hasGateway = new Set(placed.filter((e) => e.handover?.gateway === true).map((e) => e.netns));
    for (const e of placed) {
      const portmap = e.handover?.portmap ?? [];
      if (portmap.length === 0 || hasGateway.has(e.netns) || !(await carriesDefaultRoute(d.ctx, e))) continue;
      const network = await d.ctx.repo.getNetwork(e.network);
      if (network === undefined) continue;
      log(`endpoint ${e.id} carries its container's default route but was never told it is the gateway (its ProgramExternalConnectivity did not reach tnet); publishing its ports`);
      await programLocked(d, network, e, portmap);
      hasGateway.add(e.netns);
    }
  });

export const recoverDocker = async (d: DriverContext, learner: NameLearner, dockerSocket: string, log: (line: string) => void): Promise<void> => {
  const { ctx } = d;
  const docker = await dockerNetworks(dockerSocket);
  await ctx.repo.withHostLock(async () => {
    const networks = (await ctx.repo.listNetworks()).filter((n) => n.labels[DOCKER_NETWORK_LABEL] !== undefined);
    for (const n of networks.filter((x) => x.phase === 'creating')) {
      log(`network ${n.name}: its CreateNetwork did not finish before the daemon stopped; removing it`);
      await removeNetworkLocked(ctx, n.name, true);
    }
    const unfinished = (await ctx.repo.listEndpoints()).filter((e) => e.owner.kind === 'docker' && e.phase === 'creating');
    if (unfinished.length > 0) {
      log(`${unfinished.length} endpoint(s) whose CreateEndpoint did not finish before the daemon stopped; removing them`);
      await removeEndpointsLocked(ctx, unfinished);
    }
    if (docker !== undefined) await dropForgotten(d, docker, log);
    for (const n of await ctx.repo.listNetworks()) {
      const id = n.labels[DOCKER_NETWORK_LABEL];
      if (id !== undefined && n.phase === undefined && n.name === provisionalName(id)) learner.learn(id);
    }
  });
};
