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
import { removeEndpointsLocked } from '../service/endpoints.js';
import { namespaceExists } from '../service/gone.js';

export interface GoneEndpoints {
  readonly released: readonly Endpoint[];
  readonly kept: readonly Endpoint[];
}

export const releaseGone = (ctx: ServiceContext, ids: ReadonlySet<string>): Promise<GoneEndpoints> =>
  ctx.repo.withHostLock(async () => {
    const gone = (await ctx.repo.listEndpoints()).filter((e) => ids.has(e.id) && !namespaceExists(ctx, e.netns));
    const released = gone.filter((e) => e.owner.kind === 'cni');
    if (released.length > 0) await removeEndpointsLocked(ctx, released);
    return { released, kept: gone.filter((e) => e.owner.kind !== 'cni') };
  });
