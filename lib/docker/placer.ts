/**
 * Docker moves a container's interface into place with no call to the plugin: for `docker run`
 * when it starts the container (its prestart hook mounts the container's namespace at the
 * SandboxKey Join was given, then moves, renames, addresses and routes the interface), for
 * `docker network connect` during Join. So the namespaces of the endpoints Docker is placing are
 * followed (netns-watch.ts), and every change there is a look: once Docker is done (placement in
 * service/handover.ts) the endpoint is recorded placed, the repair role takes its namespace over,
 * and it is let go. A slow timer covers a namespace that was mounted unnoticed.
 */
import type { Endpoint } from '../model/types.js';
import type { ServiceContext } from '../service/context.js';
import { handOverLocked, placement } from '../service/handover.js';
import { createNamespaceWatcher } from '../daemon/netns-watch.js';

const RECHECK_MS = 1_000;
/** How long a namespace's changes must pause before a look. */
const QUIET_MS = 100;

export interface Placer {
  /** Follows the namespaces of the endpoints being placed now (after any call that may change them). */
  refresh(): Promise<void>;
  stop(): void;
}

const joiningHere = (ctx: ServiceContext, e: Endpoint): boolean =>
  e.owner.kind === 'docker' && e.handover?.state === 'joining' && e.phase === undefined && (e.host === undefined || e.host === ctx.identity?.get()?.name);

export const startPlacer = (ctx: ServiceContext, log: (line: string) => void): Placer => {
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  let followed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;

  /** The endpoints joining in this namespace, each with where Docker has got to (reads only). */
  const looks = async (path: string): Promise<Array<{ before: Endpoint; after: Endpoint }>> => {
    const found = [];
    for (const e of (await ctx.repo.listEndpoints()).filter((x) => x.netns === path && joiningHere(ctx, x))) {
      const network = await ctx.repo.getNetwork(e.network);
      if (network !== undefined) found.push({ before: e, after: await placement(ctx, network, e) });
    }
    return found;
  };
  const placed = (l: { after: Endpoint }): boolean => l.after.handover?.state === 'placed';

  /**
   * Looks without the lock first: most events are Docker's own steps before it is done (the move,
   * the rename, each address, the route), and a look under the lock would make the plugin call
   * that Docker is making meanwhile wait for it. Only a placement found is looked at again under
   * the lock (the records may have changed since) and recorded.
   */
  const place = async (path: string): Promise<void> => {
    if (!(await looks(path)).some(placed)) return;
    await ctx.repo.withHostLock(async () => {
      for (const { before, after } of (await looks(path)).filter(placed)) {
        await handOverLocked(ctx, before, after);
        log(`endpoint ${before.id.slice(0, 12)} on ${before.network}: Docker placed it as ${after.ifname} in ${path}`);
      }
    });
  };

  /**
   * Docker's placement is a burst of changes (the move, the rename, each address, up, the route),
   * and in `docker network connect` its next calls (Revoke, Program, EndpointOperInfo) record the
   * placement themselves: a look waits for a quiet moment instead of taking the lock they wait for.
   */
  const quiet = new Map<string, NodeJS.Timeout>();
  const soon = (path: string): void => {
    clearTimeout(quiet.get(path));
    quiet.set(path, setTimeout(() => (quiet.delete(path), check(path)), QUIET_MS));
  };

  /** One look at a time per namespace; changes during a look ask for one more. */
  const check = (path: string): void => {
    if (running.has(path)) return void again.add(path);
    const look = place(path)
      .catch((e: unknown) => log(`placing endpoints in ${path}: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        running.delete(path);
        if (again.delete(path)) check(path);
        else void refresh();
      });
    running.set(path, look);
  };

  const watcher = createNamespaceWatcher(ctx.kernel, {
    events: (path) => soon(path),
    lost: (path) => check(path),
    appeared: (path) => soon(path),
    gone: () => undefined,
  });

  const refresh = async (): Promise<void> => {
    const paths = new Set((await ctx.repo.listEndpoints()).filter((e) => joiningHere(ctx, e)).map((e) => e.netns));
    watcher.follow(paths);
    for (const p of paths) if (!followed.has(p)) check(p);
    followed = paths;
    if (paths.size > 0 && timer === undefined) {
      timer = setInterval(() => {
        for (const p of followed) check(p);
      }, RECHECK_MS);
    } else if (paths.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  return {
    refresh,
    stop: () => {
      clearInterval(timer);
      for (const t of quiet.values()) clearTimeout(t);
      watcher.close();
    },
  };
};
