/**
 * `tnet apply` / `tnet diff`: converge the store to a spec file, then the kernel to the store.
 * Everything the spec asks for is validated by the operations themselves before they change
 * anything; if one fails midway, what this apply created is removed again in reverse order.
 */
import { describeAction } from '../reconcile/actions.js';
import type { SpecFile } from '../model/spec-file.js';
import type { ServiceContext } from './context.js';
import { describeChange, planSpec, type SpecChange } from './apply-plan.js';
import { connectLocked, removeEndpointsLocked } from './endpoints.js';
import { createNetworkLocked, removeNetworkLocked } from './networks.js';
import { setPortsLocked } from './ports.js';
import { syncHost } from './sync.js';
import { TnetError } from '../errors.js';
import { createHostRegistry } from '../state/hosts.js';
import { linkWithAddress } from './cluster.js';

export interface ApplyReport {
  /** Changes to desired state (networks and endpoints), terraform-style lines. */
  readonly changes: readonly string[];
  /** Kernel objects that had drifted from the recorded state and were (or would be) repaired. */
  readonly repairs: readonly string[];
  readonly notes: readonly string[];
}

type Undo = () => Promise<unknown>;

const execute = async (ctx: ServiceContext, change: SpecChange): Promise<Undo | undefined> => {
  switch (change.op) {
    case 'createNetwork': {
      const n = await createNetworkLocked(ctx, change.request);
      return () => removeNetworkLocked(ctx, n.name, true);
    }
    case 'replaceNetwork': {
      await removeNetworkLocked(ctx, change.current.name, true);
      const n = await createNetworkLocked(ctx, change.request);
      return () => removeNetworkLocked(ctx, n.name, true);
    }
    case 'relabelNetwork': {
      await ctx.repo.rewrite({ networks: [{ ...change.current, labels: change.labels }] });
      return () => ctx.repo.rewrite({ networks: [change.current] });
    }
    case 'deleteNetwork':
      await removeNetworkLocked(ctx, change.current.name, true);
      return undefined;
    case 'connect': {
      const e = await connectLocked(ctx, change.request, { kind: 'cli' });
      return () => removeEndpointsLocked(ctx, [e]);
    }
    case 'reconnect': {
      await removeEndpointsLocked(ctx, [change.current]);
      const e = await connectLocked(ctx, change.request, { kind: 'cli' });
      return () => removeEndpointsLocked(ctx, [e]);
    }
    case 'disconnect':
      await removeEndpointsLocked(ctx, [change.current]);
      return undefined;
    case 'setPorts': {
      const updated = await setPortsLocked(ctx, change.current, change.ports);
      return () => setPortsLocked(ctx, updated, change.current.ports ?? []);
    }
  }
};

/** Static-peer mode: this host's identity and its peers come from the spec, before any network. */
const applyCluster = async (ctx: ServiceContext, cluster: NonNullable<SpecFile['cluster']>): Promise<void> => {
  if (ctx.repo.store.putLeased !== undefined) {
    throw new TnetError('invalidConfig', 'host: and peers: are for clusters without a shared store; with etcd, use tnet host join');
  }
  const current = ctx.identity?.get();
  if (current !== undefined && (current.name !== cluster.self.name || current.vtep !== cluster.self.vtep)) {
    throw new TnetError('conflict', `this host is already ${current.name} (VTEP ${current.vtep}); the spec says ${cluster.self.name} (VTEP ${cluster.self.vtep})`);
  }
  if ((await linkWithAddress(ctx, cluster.self.vtep)) === undefined) {
    throw new TnetError('invalidConfig', `host.vtep ${cluster.self.vtep} is not an address of this host; VXLAN packets must leave from an address the host has`);
  }
  ctx.identity?.set(cluster.self);
  await createHostRegistry(ctx.repo.store).setStaticPeers(cluster.peers);
};

export interface ApplyOptions {
  readonly dryRun: boolean;
  /** Let the file manage networks it names that it did not create. */
  readonly adopt: boolean;
}

export const applySpec = (ctx: ServiceContext, spec: SpecFile, source: string, { dryRun, adopt }: ApplyOptions): Promise<ApplyReport> =>
  ctx.repo.withHostLock(async () => {
    if (spec.cluster !== undefined && !dryRun) await applyCluster(ctx, spec.cluster);
    const repair = await syncHost(ctx, { scope: 'all', dryRun });
    const changes = planSpec(spec, source, await ctx.repo.listNetworks(), await ctx.repo.listEndpoints(), adopt);
    if (!dryRun) {
      const undos: Undo[] = [];
      try {
        for (const change of changes) {
          const undo = await execute(ctx, change);
          if (undo) undos.push(undo);
        }
      } catch (e) {
        for (const undo of undos.reverse()) await undo().catch(() => undefined); // the original error is the one to report
        throw e;
      }
    }
    return { changes: changes.map(describeChange), repairs: repair.actions.map(describeAction), notes: repair.notes };
  });
