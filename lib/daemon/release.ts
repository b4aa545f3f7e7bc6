/**
 * Endpoints whose namespace is gone cannot come back by any repair. What happens to them depends
 * on who made them:
 *  - CNI (owner cni): the runtime's container is gone. The daemon frees the attachment as a CNI
 *    GC would (the record, its addresses, its veth, its published ports); a DEL the runtime sends
 *    later finds nothing and succeeds, as DEL must.
 *  - the CLI or `apply` (owner cli): the attachment is what the user declared. The record and its
 *    address are kept and reported (daemon log, `tnet daemon status`, `tnet inspect`,
 *    `tnet doctor`) until `tnet disconnect` frees them; if a namespace appears again under the
 *    same path, the daemon attaches it again.
 * Both are decided under the host lock against a fresh read, so a connect or an ADD that raced
 * with the namespace's removal is never undone by mistake.
 */
import type { Endpoint } from '../model/types.js';
import type { ServiceContext } from '../service/context.js';
import { disconnectLocked } from '../service/endpoints.js';
import { namespaceExists } from '../service/gone.js';

export interface GoneEndpoints {
  readonly released: readonly Endpoint[];
  readonly kept: readonly Endpoint[];
}

export const releaseGone = (ctx: ServiceContext, ids: ReadonlySet<string>): Promise<GoneEndpoints> =>
  ctx.repo.withHostLock(async () => {
    const released: Endpoint[] = [];
    const kept: Endpoint[] = [];
    for (const e of await ctx.repo.listEndpoints()) {
      if (!ids.has(e.id) || namespaceExists(ctx, e.netns)) continue;
      if (e.owner.kind === 'cni') {
        await disconnectLocked(ctx, e);
        released.push(e);
      } else kept.push(e);
    }
    return { released, kept };
  });
