/**
 * A role is one long-running job of the host daemon (drift repair, the overlay agent, the CNI
 * socket; later DNS and the Docker plugin): a small module with start/stop, handed the same
 * context. The daemon is only their composition (daemon.ts); adding a role is one module and one
 * entry in roles/index.ts.
 */
import type { ServiceContext } from '../service/context.js';
import type { Repairer } from './repairer.js';
import type { StoreFeed } from './store-feed.js';

export interface DaemonOptions {
  readonly stateDir: string;
  /** The store as given (`etcd://…`), undefined for the embedded one. */
  readonly storeUrl?: string;
  /** Full pass (every namespace, every element) this often: the backstop for lost events. */
  readonly resyncMs: number;
  /** Overlay agent: how long other hosts wait before they consider this one gone. */
  readonly leaseTtlSeconds: number;
  /** CNI role: where the installed plugin offers its calls. */
  readonly cniSocket: string;
  /** Docker role: the plugin socket dockerd discovers ('' leaves the role off). */
  readonly dockerSocket: string;
  /** Docker role: dockerd's API (unix://PATH), to learn the names of the networks it makes. */
  readonly dockerHost: string;
  /** DNS role: where the host's upstream resolvers are read, and the ports (53 but in tests). */
  readonly dns: { readonly resolvConf: string; readonly port: number; readonly upstreamPort: number };
  /** The process environment (systemd's LISTEN_FDS for the CNI socket). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What roles that act on this host's state share (absent when only state-free roles run). */
export interface HostState {
  readonly ctx: ServiceContext;
  readonly repairer: Repairer;
  readonly feed: StoreFeed;
}

export interface DaemonContext {
  readonly options: DaemonOptions;
  readonly log: (line: string) => void;
  readonly host?: HostState;
}

export interface RunningRole {
  /** Stops after the work in progress; never throws. */
  stop(): Promise<void>;
  /** What `tnet daemon status` shows for this role. */
  status(): Readonly<Record<string, unknown>>;
}

export interface Role {
  readonly name: string;
  /** Whether the role acts on a state dir and store (then the daemon takes that state dir's lock). */
  readonly usesHostState: boolean;
  /** Why the role cannot run on this host (it is then left off and said so), or undefined. */
  skip?(d: DaemonContext): string | undefined;
  /** Starts the role; resolves once it is serving. */
  start(d: DaemonContext): Promise<RunningRole>;
}

export const requireHost = (d: DaemonContext, role: string): HostState => {
  if (d.host === undefined) throw new Error(`the ${role} role needs the host's state, which this daemon did not open`);
  return d.host;
};
