/**
 * `tnet apply` / `tnet diff`: converge the store to a spec file, then the kernel to the store.
 * Everything the spec asks for is validated by the operations themselves before they change
 * anything; if one fails midway, what this apply created is removed again in reverse order.
 */
import { describeAction } from '../reconcile/actions.js';
import type { SpecFile } from '../model/spec-file.js';
import type { ServiceContext } from './context.js';
import { describeChange, planSpec, type SpecChange } from './apply-plan.js';
import { connectLocked, disconnectLocked } from './endpoints.js';
import { createNetworkLocked, removeNetworkLocked } from './networks.js';
import { setPortsLocked } from './ports.js';
import { syncHost } from './sync.js';

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
    case 'deleteNetwork':
      await removeNetworkLocked(ctx, change.current.name, true);
      return undefined;
    case 'connect': {
      const e = await connectLocked(ctx, change.request, { kind: 'cli' });
      return () => disconnectLocked(ctx, e);
    }
    case 'reconnect': {
      await disconnectLocked(ctx, change.current);
      const e = await connectLocked(ctx, change.request, { kind: 'cli' });
      return () => disconnectLocked(ctx, e);
    }
    case 'disconnect':
      await disconnectLocked(ctx, change.current);
      return undefined;
    case 'setPorts': {
      const updated = await setPortsLocked(ctx, change.current, change.ports);
      return () => setPortsLocked(ctx, updated, change.current.ports ?? []);
    }
  }
};

export const applySpec = (ctx: ServiceContext, spec: SpecFile, source: string, dryRun: boolean): Promise<ApplyReport> =>
  ctx.repo.withHostLock(async () => {
    const repair = await syncHost(ctx, { scope: 'all', dryRun });
    const changes = planSpec(spec, source, await ctx.repo.listNetworks(), await ctx.repo.listEndpoints());
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
