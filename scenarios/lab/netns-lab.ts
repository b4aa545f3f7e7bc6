/**
 * The local lab: N simulated hosts on this machine. Each host is a network namespace with its own
 * state dir and an underlay veth into a shared underlay namespace (a bridge standing in for the
 * LAN, with the "outside" address); with the etcd store, a 3-member etcd cluster runs on the host
 * addresses and every host runs `tnet daemon` (drift repair, the overlay agent and DNS; a static-peer
 * host runs only its DNS server). Every process is started here and stopped by PID;
 * every namespace starts with the lab's prefix.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, CommandResult, LabOptions, Started } from './backend.js';
import { compiled, ensureBuilt } from './build.js';
import { createDockerd, dockerDriverArgs, importBusybox, PLUGINS_DIR, type Dockerd } from './dockerd.js';
import { HostShell } from './host-shell-client.js';
import { startProc, type Proc } from './proc.js';
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT, OUTSIDE_ADDRESS, containerNetns, etcdHealthArgv, etcdInitialCluster, etcdStoreUrl, hostAddress, hostName } from './topology.js';

export const run = (argv: readonly string[], timeoutMs = 30_000): Promise<CommandResult> =>
  new Promise((resolve) => {
    const [cmd, ...args] = argv;
    execFile(cmd ?? 'false', args, { timeout: timeoutMs, encoding: 'utf8' }, (error, out, err) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, out, err });
    });
  });

const must = async (argv: readonly string[]): Promise<string> => {
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.err}`);
  return r.out;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface LabHost {
  readonly name: string;
  readonly ns: string;
  readonly stateDir: string;
  shell?: HostShell;
  agent?: Proc | undefined;
  etcd?: Proc | undefined;
  dns?: Proc | undefined;
  /** A private dockerd whose network driver is this host's daemon (LabOptions.docker). */
  dockerd?: Dockerd;
}

export interface NetnsLabOptions {
  /** Namespace prefix, e.g. 'tt-ov1' (tests) or 'tnlab' (by hand). */
  readonly prefix: string;
  /** Agent lease TTL in seconds (short in the lab so host loss shows quickly). */
  readonly leaseTtl?: number;
  readonly resync?: number;
  /** Where state dirs and logs go; a fresh temp dir when absent. */
  readonly workDir?: string;
}

export const createNetnsLab = (o: NetnsLabOptions): Backend & { readonly workDir: string; hostNetns(host: string): string; netnsOf(host: string, c: string): string } => {
  const workDir = o.workDir ?? mkdtempSync(join(tmpdir(), `tnet-test-${o.prefix}-`));
  const underlay = `${o.prefix}-ul`;
  let hosts: LabHost[] = [];
  let current: LabOptions | undefined;
  const containers = new Set<string>();
  /** Processes started in containers (startIn): the runner stops them; cleanup stops any it missed. */
  const started = new Set<Proc>();
  const stopStarted = async (): Promise<void> => {
    const all = [...started];
    started.clear();
    await Promise.allSettled(all.map((p) => p.stop('SIGTERM', 2_000)));
  };
  const host = (name: string): LabHost => {
    const h = hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name} in this lab (hosts: ${hosts.map((x) => x.name).join(', ')})`);
    return h;
  };
  const env = (h: LabHost): NodeJS.ProcessEnv => ({
    ...process.env,
    TNET_CONFIG: '', // a lab host has no /etc/tnet of its own; the machine's must not leak in
    TNET_STATE_DIR: h.stateDir,
    ...(current?.store === 'etcd' ? { TNET_STORE: etcdStoreUrl(hosts.length) } : {}),
  });
  const log = (h: LabHost, what: string): string => join(h.stateDir, `${what}.log`);

  const addNetns = async (name: string): Promise<void> => {
    await run(['ip', 'netns', 'del', name]);
    await must(['ip', 'netns', 'add', name]);
    await must(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  };

  const startEtcd = (h: LabHost, i: number, fresh: boolean): Proc => {
    const a = hostAddress(i);
    const dataDir = join(h.stateDir, 'etcd');
    if (fresh) rmSync(dataDir, { recursive: true, force: true });
    return startProc(['ip', 'netns', 'exec', h.ns, 'etcd',
      '--name', h.name, '--data-dir', dataDir, '--log-level', 'warn', '--logger', 'zap',
      '--listen-client-urls', `http://${a}:${ETCD_CLIENT_PORT}`, '--advertise-client-urls', `http://${a}:${ETCD_CLIENT_PORT}`,
      '--listen-peer-urls', `http://${a}:${ETCD_PEER_PORT}`, '--initial-advertise-peer-urls', `http://${a}:${ETCD_PEER_PORT}`,
      '--initial-cluster', etcdInitialCluster(hosts.length), '--initial-cluster-state', fresh ? 'new' : 'existing',
      '--initial-cluster-token', o.prefix, '--heartbeat-interval', '50', '--election-timeout', '500',
    ], { log: log(h, 'etcd') });
  };

  const waitEtcd = async (h: LabHost): Promise<void> => {
    const probe = etcdHealthArgv(hostAddress(hosts.indexOf(h) + 1));
    for (let i = 0; i < 100; i++) {
      if ((await run(['ip', 'netns', 'exec', h.ns, ...probe])).code === 0) return;
      await sleep(100);
    }
    throw new Error(`etcd on ${h.name} did not become healthy; see ${log(h, 'etcd')}`);
  };

  /** No upstreams: a lab host forwards nothing to the machine's resolvers. */
  const upstreams = (h: LabHost): string => {
    const file = join(h.stateDir, 'upstream-resolv.conf');
    writeFileSync(file, '# the lab has no upstream resolvers\n');
    return file;
  };

  /** dockerd finds plugins in a directory all dockerds share: a name of this lab's own. */
  const dockerDriver = (h: LabHost): string => `${o.prefix}${h.name}`.replace(/[^a-z0-9]/g, '');
  const pluginSocket = (h: LabHost): string => join(PLUGINS_DIR, `${dockerDriver(h)}.sock`);

  /** The host's daemon as a cluster member runs it: drift repair, the overlay agent, DNS (and the Docker plugin on a Docker host). */
  const startAgent = (h: LabHost): Proc => {
    const docker = h.dockerd === undefined ? [] : ['--docker-socket', pluginSocket(h), '--docker-host', h.dockerd.host];
    return startProc(['ip', 'netns', 'exec', h.ns, process.execPath, compiled('bin/tnet.js'), 'daemon', '--roles', `repair,agent,dns${docker.length > 0 ? ',docker' : ''}`,
      '--lease-ttl', String(o.leaseTtl ?? 2), '--resync', String(o.resync ?? 5), '--resolv-conf', upstreams(h), ...docker], { env: env(h), log: log(h, 'agent') });
  };

  /** Docker's containers and networks go first, while the plugin still answers (a dead one costs 15 s a call). */
  const clearDocker = async (h: LabHost): Promise<void> => {
    const d = h.dockerd;
    if (d === undefined || !d.running()) return;
    const ids = (await d.docker('ps', '-aq')).stdout.split('\n').filter((x) => x !== '');
    if (ids.length > 0) await d.docker('rm', '-f', ...ids);
    await d.docker('network', 'prune', '-f');
  };

  /** A static-peer host runs no agent (see docs/overlay.md), only the DNS server for its containers. */
  const startDns = (h: LabHost): Proc =>
    startProc(['ip', 'netns', 'exec', h.ns, process.execPath, compiled('bin/tnet.js'), 'dns', 'serve', '--resolv-conf', upstreams(h)], { env: env(h), log: log(h, 'dns') });

  const tnetIn = async (h: LabHost, args: readonly string[]): Promise<CommandResult> => {
    h.shell ??= new HostShell(startProc(['ip', 'netns', 'exec', h.ns, process.execPath, compiled('scenarios/lab/host-shell.js')], {
      env: env(h), log: log(h, 'shell'), stdin: 'pipe', stdout: 'pipe',
    }));
    return h.shell.run(args);
  };

  /** Every namespace of this lab's prefix, also those an interrupted earlier run left. */
  const removeNamespaces = async (): Promise<void> => {
    for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : []) {
      if (n.startsWith(`${o.prefix}-`)) await run(['ip', 'netns', 'del', n]);
    }
    // What tnet wrote for the lab's containers (their resolv.conf), had a scenario left any.
    for (const n of existsSync('/etc/netns') ? readdirSync('/etc/netns') : []) {
      if (n.startsWith(`${o.prefix}-`)) rmSync(join('/etc/netns', n), { recursive: true, force: true });
    }
  };

  const teardown = async (): Promise<void> => {
    // Every process is stopped even if stopping another one failed.
    await stopStarted();
    await Promise.allSettled(hosts.map(async (h) => {
      await clearDocker(h);
      await h.dockerd?.destroy();
    }));
    await Promise.allSettled(hosts.flatMap((h) => [h.agent?.stop(), h.dns?.stop(), h.shell?.close()]));
    // A daemon stopped the hard way leaves its plugin socket in the directory every dockerd reads.
    for (const h of hosts) if (h.dockerd !== undefined) rmSync(pluginSocket(h), { force: true });
    await Promise.allSettled(hosts.map((h) => h.etcd?.stop()));
    await removeNamespaces();
    containers.clear();
    for (const h of hosts) rmSync(h.stateDir, { recursive: true, force: true });
    hosts = [];
    current = undefined;
  };

  const build = async (options: LabOptions): Promise<void> => {
    ensureBuilt();
    current = options;
    await removeNamespaces();
    await addNetns(underlay);
    await must(['ip', '-n', underlay, 'link', 'add', 'ul0', 'type', 'bridge']);
    await must(['ip', '-n', underlay, 'addr', 'add', `${OUTSIDE_ADDRESS}/24`, 'dev', 'ul0']);
    await must(['ip', '-n', underlay, 'link', 'set', 'ul0', 'up']);
    hosts = Array.from({ length: options.hosts }, (_, k) => {
      const name = hostName(k + 1);
      const stateDir = join(workDir, name);
      mkdirSync(stateDir, { recursive: true });
      const ns = `${o.prefix}-${name}`;
      return { name, ns, stateDir, ...(options.docker?.includes(name) === true ? { dockerd: createDockerd({ dir: join(stateDir, 'docker'), netns: ns }) } : {}) };
    });
    for (const [k, h] of hosts.entries()) {
      await addNetns(h.ns);
      await must(['ip', 'link', 'add', 'ul', 'netns', h.ns, 'type', 'veth', 'peer', 'name', h.name, 'netns', underlay]);
      await must(['ip', '-n', underlay, 'link', 'set', h.name, 'master', 'ul0', 'up']);
      await must(['ip', '-n', h.ns, 'addr', 'add', `${hostAddress(k + 1)}/24`, 'dev', 'ul']);
      await must(['ip', '-n', h.ns, 'link', 'set', 'ul', 'up']);
      await must(['ip', '-n', h.ns, 'route', 'add', 'default', 'via', OUTSIDE_ADDRESS]);
    }
    if (options.store === 'etcd') {
      hosts.forEach((h, k) => (h.etcd = startEtcd(h, k + 1, true)));
      await Promise.all(hosts.map(waitEtcd));
      await Promise.all(hosts.map(async (h, k) => {
        const r = await tnetIn(h, ['host', 'join', '--vtep', hostAddress(k + 1), '--name', h.name]);
        if (r.code !== 0) throw new Error(`host join on ${h.name}: ${r.err}`);
      }));
      for (const h of hosts) h.agent = startAgent(h);
      await waitAgentsAlive();
    } else for (const h of hosts) h.dns = startDns(h);
    await Promise.all(hosts.map(async (h) => {
      if (h.dockerd === undefined) return;
      if (options.store !== 'etcd') throw new Error('Docker hosts need the etcd store (their daemon serves the plugin)');
      await h.dockerd.start();
      await importBusybox(h.dockerd, join(h.stateDir, 'docker'));
    }));
  };

  /** The lab is ready once every agent holds its lease: until then its host misses events. */
  const waitAgentsAlive = async (): Promise<void> => {
    const first = hosts[0];
    let listed = '';
    for (let i = 0; first && i < 200; i++) {
      const r = await tnetIn(first, ['host', 'ls', '--json']);
      listed = r.out;
      if (r.code === 0 && (JSON.parse(r.out) as Array<{ state: string }>).every((h) => h.state === 'alive')) return;
      await sleep(50);
    }
    throw new Error(`the agents did not all become alive within 10 s: ${listed}`);
  };

  return {
    name: 'netns-lab',
    workDir,
    hostNetns: (name) => host(name).ns,
    netnsOf: (h, c) => `${o.prefix}-${containerNetns(h, c)}`,

    async prepare(options) {
      // The same lab serves the next scenario, from the same state as a fresh one: the previous
      // scenario's cleanup ran, but it may have been interrupted half-way.
      if (current && current.hosts === options.hosts && current.store === options.store && String(current.docker ?? []) === String(options.docker ?? [])) return this.cleanup();
      await teardown();
      await build(options);
    },

    tnet: (name, args) => tnetIn(host(name), args),
    docker: async (name, args) => {
      const h = host(name);
      if (h.dockerd === undefined) throw new Error(`${name} runs no dockerd (the scenario's docker steps name the hosts that do)`);
      const r = await h.dockerd.docker(...dockerDriverArgs(args, dockerDriver(h)));
      return { code: r.code, out: r.stdout, err: r.stderr };
    },
    exec: (name, argv) => run(['ip', 'netns', 'exec', host(name).ns, ...argv]),
    execIn: (h, c, argv) => run(['ip', 'netns', 'exec', `${o.prefix}-${containerNetns(h, c)}`, ...argv]),

    async startIn(h, c, argv): Promise<Started> {
      const ns = `${o.prefix}-${containerNetns(h, c)}`;
      if (!containers.has(ns)) throw new Error(`no container ${c} on ${h}`);
      // `ip netns exec` execs the command, so this PID is the server's own.
      const p = startProc(['ip', 'netns', 'exec', ns, ...argv], { log: log(host(h), `started-${c}`) });
      started.add(p);
      return { pid: p.pid, stop: async () => { started.delete(p); await p.stop('SIGTERM', 2_000); } };
    },

    async addContainer(h, c) {
      host(h);
      const ns = `${o.prefix}-${containerNetns(h, c)}`;
      await addNetns(ns);
      containers.add(ns);
      return ns;
    },

    async writeFile(h, name, text) {
      const path = join(host(h).stateDir, name);
      writeFileSync(path, text);
      return path;
    },

    async setAgent(name, running) {
      const h = host(name);
      if (running && !h.agent) h.agent = startAgent(h);
      if (!running && h.agent) {
        // SIGKILL: a host that dies does not get to say goodbye; its lease has to run out.
        await h.agent.stop('SIGKILL');
        h.agent = undefined;
      }
    },

    async setEtcd(name, running) {
      const h = host(name);
      if (running && !h.etcd) {
        h.etcd = startEtcd(h, hosts.indexOf(h) + 1, false);
        await waitEtcd(h);
      }
      if (!running && h.etcd) {
        await h.etcd.stop('SIGKILL');
        h.etcd = undefined;
      }
    },

    async cleanup() {
      if (!current) return;
      // Before the namespaces go: a process outlives its deleted namespace.
      await stopStarted();
      for (const ns of containers) await run(['ip', 'netns', 'del', ns]);
      containers.clear();
      for (const h of hosts) await clearDocker(h);
      for (const h of hosts) {
        if (current.store === 'etcd' && !h.etcd) await this.setEtcd(h.name, true);
        if (current.store === 'etcd' && !h.agent) await this.setAgent(h.name, true);
      }
      const first = hosts[0];
      const owners = current.store === 'etcd' && first ? [first] : hosts;
      for (const h of owners) {
        const ls = await tnetIn(h, ['ls', '--json']);
        const names = ls.code === 0 ? (JSON.parse(ls.out) as Array<{ name: string }>).map((n) => n.name) : [];
        if (names.length > 0) await tnetIn(h, ['rm', '--force', ...names]);
      }
      // Other hosts' agents remove their devices; wait for that so the next scenario starts clean.
      for (const h of hosts) {
        for (let i = 0; i < 100; i++) {
          const links = (await run(['ip', '-n', h.ns, '-o', 'link', 'show'])).out;
          if (!/tnbr-|tnvx-|tnv[0-9a-f]/.test(links)) break;
          await sleep(100);
        }
      }
    },

    close: async () => {
      await teardown();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
};
