/**
 * The host daemon in the test process, on a lab host: its roles, a log to read, and a way to wait
 * for the kernel to be right again. (A daemon as a real process, for kill -9, is in the process
 * tests.) Its nftables changes and the in-process CLI's share this process's pid, so damage to
 * the firewall must come from the `nft` binary, as it would on a real host.
 */
import { openApp, type App } from '../../lib/app.js';
import { startDaemon, type StartedDaemon } from '../../lib/daemon/daemon.js';
import type { Role } from '../../lib/daemon/role.js';
import type { LabHost } from './lab-host.js';

export interface TestDaemon {
  readonly daemon: StartedDaemon;
  readonly app: App;
  readonly log: string[];
  /** Log lines since the last mark(). */
  since(): string[];
  mark(): void;
  /** Resolves once nothing is pending in the daemon's worker. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** For daemons in tests that run no DNS role. */
export const UNUSED_DNS = { resolvConf: '/dev/null', port: 53, upstreamPort: 53 } as const;

export const startTestDaemon = async (lab: LabHost, roles: readonly Role[], o: { storeUrl?: string; resyncMs?: number } = {}): Promise<TestDaemon> => {
  const app = await openApp({ stateDir: lab.stateDir, hostNetns: lab.ns, ...(o.storeUrl === undefined ? {} : { storeUrl: o.storeUrl }) });
  const log: string[] = [];
  let mark = 0;
  const daemon = await startDaemon({
    roles,
    ctx: app.ctx,
    log: (l) => void log.push(l),
    options: {
      stateDir: lab.stateDir,
      ...(o.storeUrl === undefined ? {} : { storeUrl: o.storeUrl }),
      resyncMs: o.resyncMs ?? 3_600_000,
      leaseTtlSeconds: 60,
      cniSocket: '',
      dockerSocket: '',
      dockerHost: '',
      dns: UNUSED_DNS,
      env: {},
    },
  });
  return {
    daemon,
    app,
    log,
    since: () => log.slice(mark),
    mark: () => void (mark = log.length),
    idle: async () => {
      await new Promise((r) => setTimeout(r, 20)); // events in flight reach the worker first
      await daemon.host?.repairer.idle();
    },
    stop: async () => {
      await daemon.stop();
      await app.close();
    },
  };
};

/** Polls until check() holds; the failure names what did not come back and shows the daemon's log. */
export const waitFor = async (what: string, check: () => boolean, log: readonly string[] = [], timeoutMs = 5_000): Promise<number> => {
  const started = Date.now();
  for (;;) {
    let ok = false;
    try {
      ok = check();
    } catch {
      ok = false;
    }
    if (ok) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not so after ${timeoutMs} ms; daemon log:\n${log.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
