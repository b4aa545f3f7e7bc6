/**
 * tnet as Docker's network driver: Docker's calls, each answered by the network or endpoint call
 * of the same name (driver-networks.ts, driver-endpoints.ts).
 */
import { TnetError } from '../errors.js';
import type { ServiceContext } from '../service/context.js';
import { createEndpoint, deleteEndpoint, endpointInfo, join, leave, programExternal, revokeExternal } from './driver-endpoints.js';
import { createNetwork, deleteNetworkLocked } from './driver-networks.js';
import type { DockerRecords } from './records.js';
import type { DockerCall } from './wire.js';

export interface DriverContext {
  readonly ctx: ServiceContext;
  readonly records: DockerRecords;
  /** A network Docker made was created: Docker knows its name from now on. */
  readonly created: (networkId: string) => void;
  /** Work a call goes on with after its answer: waited for on stop, its failure logged. */
  readonly finishLater: (what: string, work: Promise<unknown>) => void;
}

export const driverCall = async (d: DriverContext, call: DockerCall): Promise<Record<string, unknown>> => {
  switch (call.kind) {
    case 'networkCapabilities':
      return { Scope: 'local', ConnectivityScope: 'local' };
    case 'discover':
      return {};
    case 'createNetwork':
      await createNetwork(d, call);
      return {};
    case 'deleteNetwork':
      await d.ctx.repo.withHostLock(() => deleteNetworkLocked(d, call.networkId));
      return {};
    case 'createEndpoint':
      return createEndpoint(d, call);
    case 'join':
      return join(d, call);
    case 'endpointInfo':
      return endpointInfo(d, call);
    case 'programExternalConnectivity':
      await programExternal(d, call);
      return {};
    case 'revokeExternalConnectivity':
      await revokeExternal(d, call);
      return {};
    case 'leave':
      await leave(d, call);
      return {};
    case 'deleteEndpoint':
      return deleteEndpoint(d, call);
    default:
      throw new TnetError('internal', `${call.kind} is not a network driver call`);
  }
};
