/**
 * What a scenario needs from a set of hosts. The local netns lab and the Vagrant machines both
 * provide it, so one scenario file runs on either.
 */
export interface CommandResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** A long-running process a scenario started (a server); stop() ends exactly that PID. */
export interface Started {
  readonly pid: number;
  stop(): Promise<void>;
}

export interface LabOptions {
  readonly hosts: number;
  /** 'etcd': a 3-member cluster on the hosts and an agent per host; 'local': each host its own store (static peers). */
  readonly store: 'etcd' | 'local';
  /** Hosts that run a private dockerd with tnet as its network driver (their daemon serves the plugin). */
  readonly docker?: readonly string[];
}

export interface Backend {
  readonly name: string;
  /** Brings the hosts to a clean state for a scenario with these options. */
  prepare(options: LabOptions): Promise<void>;
  /** `tnet ARGS` on a host, with that host's store and state dir. */
  tnet(host: string, args: readonly string[]): Promise<CommandResult>;
  /**
   * `docker ARGS` against the host's dockerd (prepared with LabOptions.docker); `tnet` as a driver
   * name (-d, --driver, --ipam-driver) is the host's tnet plugin. Absent: this backend runs no dockerd.
   */
  docker?(host: string, args: readonly string[]): Promise<CommandResult>;
  /** Any command in a host's namespace (ip, ping, bridge…). */
  exec(host: string, argv: readonly string[]): Promise<CommandResult>;
  /** Any command inside a container namespace on a host. */
  execIn(host: string, container: string, argv: readonly string[]): Promise<CommandResult>;
  /**
   * Starts a long-running command inside a container namespace and returns at once; the caller
   * owns it and stops it by its PID (the runner does, at scenario end, also on failure).
   */
  startIn(host: string, container: string, argv: readonly string[]): Promise<Started>;
  /** A fresh container namespace; returns the reference tnet takes as --netns. */
  addContainer(host: string, name: string): Promise<string>;
  /** Writes a file on a host; returns its path there. */
  writeFile(host: string, name: string, text: string): Promise<string>;
  setAgent(host: string, running: boolean): Promise<void>;
  setEtcd(host: string, running: boolean): Promise<void>;
  /** Removes everything a scenario made (containers, networks, state). */
  cleanup(): Promise<void>;
  close(): Promise<void>;
}
