/**
 * `tnet daemon`: the resident part of a host, one process holding every long-running role (see
 * role.ts). It starts the roles in order, answers `tnet daemon status` on its control socket,
 * and on SIGTERM/SIGINT stops them in reverse order after the work in progress. One-shot commands
 * never need it: it only makes things faster (the CNI socket) and keeps them converged.
 */
import type { ServiceContext } from '../service/context.js';
import { startControlServer } from './control.js';
import { takeDaemonLock } from './lock.js';
import { createRepairer } from './repairer.js';
import type { DaemonContext, DaemonOptions, HostState, Role, RunningRole } from './role.js';
import { createStoreFeed } from './store-feed.js';

/** A role or the worker stuck on an unreachable store must not keep the daemon from stopping. */
const STOP_GRACE_MS = 3_000;

const settleWithin = (ms: number, p: Promise<unknown>): Promise<unknown> =>
  Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);

export interface StartedDaemon {
  readonly host?: HostState;
  status(): Record<string, unknown>;
  stop(): Promise<void>;
}

export interface DaemonSetup {
  readonly roles: readonly Role[];
  readonly options: DaemonOptions;
  readonly log: (line: string) => void;
  /** The host's context, for roles that use it (the caller opens and closes it). */
  readonly ctx?: ServiceContext;
}

/** Starts the roles (resolves when all serve); what a role cannot run on this host is left off and said. */
export const startDaemon = async (setup: DaemonSetup): Promise<StartedDaemon> => {
  const { options, log, ctx } = setup;
  const host: HostState | undefined =
    ctx === undefined ? undefined : { ctx, repairer: createRepairer(ctx, (l) => log(l)), feed: createStoreFeed(ctx.repo.store) };
  const d: DaemonContext = { options, log, ...(host === undefined ? {} : { host }) };
  const running: Array<{ readonly name: string; readonly role: RunningRole }> = [];
  const skipped: Record<string, string> = {};
  const stop = async (): Promise<void> => {
    for (const { role } of [...running].reverse()) await settleWithin(STOP_GRACE_MS, role.stop());
    running.length = 0;
    await host?.repairer.stop(STOP_GRACE_MS);
    host?.feed.close();
  };
  try {
    for (const role of setup.roles) {
      const why = role.skip?.(d);
      if (why !== undefined) {
        skipped[role.name] = why;
        log(`${role.name} role off: ${why}`);
        continue;
      }
      running.push({ name: role.name, role: await role.start(d) });
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const since = new Date().toISOString();
  return {
    ...(host === undefined ? {} : { host }),
    status: () => ({
      pid: process.pid,
      since,
      stateDir: options.stateDir,
      store: options.storeUrl ?? 'local',
      roles: Object.fromEntries(running.map(({ name, role }) => [name, role.status()])),
      off: skipped,
      ...(host === undefined ? {} : { repair: host.repairer.status() }),
    }),
    stop,
  };
};

/**
 * The daemon as a command: the state dir's lock (one daemon per state dir) and control socket
 * when a role uses the host's state, the roles, then a wait for `signal`.
 */
export const runDaemon = async (setup: Omit<DaemonSetup, 'ctx'> & { readonly openCtx: () => Promise<ServiceContext>; readonly signal: AbortSignal }): Promise<void> => {
  const { options, log, signal } = setup;
  const stateful = setup.roles.some((r) => r.usesHostState);
  const lock = stateful ? takeDaemonLock(options.stateDir) : undefined;
  try {
    const ctx = stateful ? await setup.openCtx() : undefined;
    const daemon = await startDaemon({ ...setup, ...(ctx === undefined ? {} : { ctx }) });
    const control = stateful ? await startControlServer(options.stateDir, () => daemon.status()) : undefined;
    log(`tnet daemon (pid ${process.pid}) serving ${stateful ? `state dir ${options.stateDir}` : 'calls only'}; roles: ${Object.keys(daemon.status()['roles'] as object).join(', ') || 'none'}`);
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    log('stopping after the work in progress');
    await control?.close();
    await daemon.stop();
    log('stopped');
  } finally {
    lock?.release();
  }
};
