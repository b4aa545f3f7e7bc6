/**
 * Docker's endpoint calls, each on top of the service layer under the host lock
 * (as every command runs), so the records and the kernel stay consistent with CLI, CNI and the
 * daemon's repairs. A Docker endpoint is a tnet endpoint (owner docker) whose container side
 * Docker places itself (Handover in model/types.ts):
 *   CreateEndpoint  records it and builds the veth, the container side parked in the host namespace;
 *   Join            names that side to Docker (SrcName), which moves, renames and addresses it;
 *   EndpointOperInfo / ProgramExternalConnectivity  (after Join) see it placed: from then on tnet
 *                   repairs it, and publishes the gateway endpoint's ports through its port maps;
 *   Leave           hands it back (unpublishing its ports, as the Revoke before it does);
 *                   DeleteEndpoint removes it as `tnet disconnect` would.
 * Deletes of ids tnet does not know succeed (Docker retries nothing and replays nothing).
 */
import { TnetError } from '../errors.js';
import { forwardsOf } from '../firewall/forwards.js';
import { parseCidr } from '../model/cidr.js';
import { inputError } from '../model/fields.js';
import { validateMac } from '../model/names.js';
import type { Endpoint, EndpointOwner, Handover, Network, PortBinding } from '../model/types.js';
import type { ServiceContext } from '../service/context.js';
import { connectLocked, markRemovingLocked, removeEndpointsLocked } from '../service/endpoints.js';
import { handOverLocked, placement, withHandover } from '../service/handover.js';
import { setPortsLocked } from '../service/ports.js';
import { NETWORKS_ONLY, syncHost } from '../service/sync.js';
import type { DriverContext } from './driver.js';
import { familyCfg, findNetwork, requireNetwork } from './driver-networks.js';
import { addressOf } from './options.js';
import { choosePorts } from './ports.js';
import type { DockerCall, EndpointCall } from './wire.js';

/** The container side's name in the host namespace, as Join hands it to Docker: tnd + the endpoint's short id. */
export const parkedNameFor = (endpointId: string): string => `tnd${endpointId.slice(0, 12)}`;

const isDockerEndpoint = (e: Endpoint, endpointId: string): boolean => e.owner.kind === 'docker' && e.owner.endpointId === endpointId;

const findEndpoint = async (d: DriverContext, call: EndpointCall): Promise<{ network: Network; endpoint: Endpoint } | undefined> => {
  const network = await findNetwork(d, call.networkId);
  const endpoint = network && (await d.ctx.repo.listEndpoints(network.name)).find((e) => isDockerEndpoint(e, call.endpointId));
  return network === undefined || endpoint === undefined ? undefined : { network, endpoint };
};

const requireEndpoint = async (d: DriverContext, call: EndpointCall): Promise<{ network: Network; endpoint: Endpoint }> => {
  const found = await findEndpoint(d, call);
  if (found !== undefined) return found;
  await requireNetwork(d, call.networkId);
  throw new TnetError('notFound', `endpoint ${call.endpointId.slice(0, 12)} is unknown to tnet on network ${call.networkId.slice(0, 12)}`, { target: call.endpointId });
};

const prefixOf = (n: Network, family: 4 | 6): number => parseCidr(familyCfg(n, family)?.subnet ?? (family === 4 ? '0.0.0.0/0' : '::/0')).prefixLength;

/** What Docker did not give and tnet chose (null IPAM: the address; always the MAC, so tnet finds the interface again). */
const interfaceReply = (call: Extract<DockerCall, { kind: 'createEndpoint' }>, network: Network, e: Endpoint): Record<string, unknown> => {
  const chosen = {
    ...(call.mac === undefined ? { MacAddress: e.mac } : {}),
    ...(call.address === undefined && e.ipv4 !== undefined ? { Address: `${e.ipv4}/${prefixOf(network, 4)}` } : {}),
    ...(call.addressIpv6 === undefined && e.ipv6 !== undefined ? { AddressIPv6: `${e.ipv6}/${prefixOf(network, 6)}` } : {}),
  };
  return { Interface: Object.keys(chosen).length === 0 ? null : chosen };
};

/**
 * Docker hands an address out only once it holds it free, so another endpoint of the same Docker
 * network still holding it is one Docker forgot: a dockerd killed with containers running starts
 * again without taking their endpoints down. It is removed as DeleteEndpoint would have.
 */
const dropForgotten = async (d: DriverContext, call: Extract<DockerCall, { kind: 'createEndpoint' }>, onNetwork: readonly Endpoint[]): Promise<void> => {
  const given = [call.address, call.addressIpv6].flatMap((a, i) => (a === undefined ? [] : [addressOf(a, i === 0 ? 'Interface.Address' : 'Interface.AddressIPv6')]));
  const forgotten = onNetwork.filter((e) => e.owner.kind === 'docker' && e.owner.networkId === call.networkId && e.owner.endpointId !== call.endpointId && given.some((a) => a === e.ipv4 || a === e.ipv6));
  if (forgotten.length > 0) await removeEndpointsLocked(d.ctx, forgotten);
};

export const createEndpoint = (d: DriverContext, call: Extract<DockerCall, { kind: 'createEndpoint' }>): Promise<Record<string, unknown>> =>
  d.ctx.repo.withHostLock(async () => {
    const network = await requireNetwork(d, call.networkId);
    const owner: EndpointOwner = { kind: 'docker', endpointId: call.endpointId, networkId: call.networkId };
    const onNetwork = await d.ctx.repo.listEndpoints(network.name);
    const done = onNetwork.find((e) => isDockerEndpoint(e, call.endpointId) && e.phase !== 'creating');
    if (done === undefined) await dropForgotten(d, call, onNetwork);
    const endpoint = done ?? (await connectLocked(d.ctx, {
      network: network.name,
      netns: d.ctx.kernel.hostNetns.path,
      ifname: parkedNameFor(call.endpointId),
      ...(call.address === undefined ? {} : { ipv4: addressOf(call.address, 'Interface.Address') }),
      ...(call.addressIpv6 === undefined ? {} : { ipv6: addressOf(call.addressIpv6, 'Interface.AddressIPv6') }),
      ...(call.mac === undefined ? {} : { mac: validateMac(call.mac, 'Interface.MacAddress') }),
    }, owner));
    return interfaceReply(call, network, endpoint);
  });

export const join = (d: DriverContext, call: Extract<DockerCall, { kind: 'join' }>): Promise<Record<string, unknown>> =>
  d.ctx.repo.withHostLock(async () => {
    const { network, endpoint } = await requireEndpoint(d, call);
    if (!call.sandboxKey.startsWith('/')) throw inputError('SandboxKey', `${JSON.stringify(call.sandboxKey)} is not a path to a network namespace`);
    const parkedName = endpoint.handover?.parkedName ?? parkedNameFor(call.endpointId);
    if (endpoint.handover?.state === 'parked') {
      const joining = withHandover(endpoint, { state: 'joining', ...(call.portmap.length === 0 ? {} : { portmap: call.portmap }) });
      await handOverLocked(d.ctx, endpoint, { ...joining, netns: call.sandboxKey });
    }
    // Docker routes through this gateway only if this becomes the container's gateway endpoint; an
    // internal network has no way out, so it offers none (Docker would install it anyway).
    const gateways = network.internal ? {} : {
      ...(network.ipv4 === undefined ? {} : { Gateway: network.ipv4.gateway }),
      ...(network.ipv6 === undefined ? {} : { GatewayIPv6: network.ipv6.gateway }),
    };
    return { InterfaceName: { SrcName: parkedName, DstPrefix: 'eth' }, ...gateways };
  });

/** After Join, a call that finds the interface in place (docker network connect) records it placed. */
const settle = async (d: DriverContext, network: Network, endpoint: Endpoint): Promise<Endpoint> => handOverLocked(d.ctx, endpoint, await placement(d.ctx, network, endpoint));

export const endpointInfo = (d: DriverContext, call: EndpointCall): Promise<Record<string, unknown>> =>
  d.ctx.repo.withHostLock(async () => {
    const { network, endpoint } = await requireEndpoint(d, call);
    await settle(d, network, endpoint);
    return { Value: {} };
  });

/** For callers whose id may be unknown (Leave, Revoke, DeleteEndpoint: success then). */
const withKnownEndpoint = (d: DriverContext, call: EndpointCall, fn: (found: { network: Network; endpoint: Endpoint }) => Promise<unknown>): Promise<void> =>
  d.ctx.repo.withHostLock(async () => {
    const found = await findEndpoint(d, call);
    if (found !== undefined) await fn(found);
  });

/** Host ports other endpoints publish, for choosing `-P` ports. */
const portsTaken = async (ctx: ServiceContext, self: Endpoint) => {
  const networks = new Map((await ctx.repo.listNetworks()).map((n) => [n.name, n]));
  const forwards = (await ctx.repo.listEndpoints()).filter((e) => e.id !== self.id).flatMap((e) => {
    const n = networks.get(e.network);
    return n === undefined ? [] : forwardsOf(n, e);
  });
  return (protocol: string, port: number, hostIp: string | undefined): boolean =>
    forwards.some((f) => f.protocol === protocol && f.hostPort === port && (f.hostIp === undefined || hostIp === undefined || f.hostIp === hostIp));
};

/** Whether an endpoint publishes, or is still taking down, any port. */
const hasPorts = (e: Endpoint): boolean => (e.ports ?? []).length > 0 || (e.releasing ?? []).length > 0;

/**
 * The gateway endpoint: Docker has routed the container through it; its ports are published.
 * Without ports that is the one record of its new state (where it was placed and that it is the
 * gateway at once): nothing about ports to check, nor a firewall to change.
 */
export const programLocked = async (d: DriverContext, network: Network, endpoint: Endpoint, portmap: readonly PortBinding[]): Promise<void> => {
  if (portmap.length === 0 && !hasPorts(endpoint)) {
    await handOverLocked(d.ctx, endpoint, withHandover(await placement(d.ctx, network, endpoint), { gateway: true }));
    return;
  }
  const placed = withHandover(await settle(d, network, endpoint), { gateway: true });
  const ports = choosePorts(portmap, placed.ports ?? [], await portsTaken(d.ctx, placed));
  await setPortsLocked(d.ctx, placed, ports);
};

export const programExternal = (d: DriverContext, call: EndpointCall & { readonly portmap: readonly PortBinding[] }): Promise<void> =>
  d.ctx.repo.withHostLock(async () => {
    const { network, endpoint } = await requireEndpoint(d, call);
    await programLocked(d, network, endpoint, call.portmap);
  });

/**
 * No longer the gateway endpoint: its ports are unpublished (another endpoint may publish them
 * now), then `then` is recorded. Without ports that is one record and no pass: Docker removes the
 * route itself, and a pass never removes routes.
 */
const revokeLocked = async (d: DriverContext, endpoint: Endpoint, then: Partial<Handover> = {}): Promise<Endpoint> => {
  if (!hasPorts(endpoint)) return handOverLocked(d.ctx, endpoint, withHandover(endpoint, { gateway: false, ...then }));
  const revoked = await setPortsLocked(d.ctx, withHandover(endpoint, { gateway: false }), []);
  return handOverLocked(d.ctx, revoked, withHandover(revoked, then));
};

/**
 * Leave implies Revoke: Docker revokes the gateway endpoint before it leaves, but a Revoke that
 * died with the daemon is not sent again, and the endpoint taking over as the gateway would find
 * the ports still published by this one.
 */
export const leave = (d: DriverContext, call: EndpointCall): Promise<void> =>
  withKnownEndpoint(d, call, ({ endpoint }) => revokeLocked(d, endpoint, { state: 'leaving' }));

/**
 * Answered once the endpoint is recorded as being removed: Docker's disconnect and `run --rm` wait
 * for the answer, and the kernel takes tens of ms to delete a veth. The rest still holds the host
 * lock, so the next call (a CreateEndpoint handed the same address) waits for it; killed before
 * it is done, whatever pass runs next finishes it (the role's first full pass at the latest).
 */
export const deleteEndpoint = (d: DriverContext, call: EndpointCall): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    withKnownEndpoint(d, call, async ({ endpoint }) => {
      await markRemovingLocked(d.ctx, [endpoint]);
      const rest = syncHost(d.ctx, { scope: NETWORKS_ONLY });
      d.finishLater(`taking endpoint ${call.endpointId.slice(0, 12)} down`, rest);
      resolve({});
      await rest.catch(() => undefined);
    }).then(() => resolve({}), reject);
  });


export const revokeExternal = (d: DriverContext, call: EndpointCall): Promise<void> =>
  withKnownEndpoint(d, call, ({ endpoint }) => revokeLocked(d, endpoint));
