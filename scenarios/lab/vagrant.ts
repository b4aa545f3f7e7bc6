/**
 * The Vagrant backend: the same scenario steps on the machines of ./Vagrantfile (h1..h3 with the
 * lab's addressing; etcd and `tnet agent` run as systemd units there). Each machine gets one ssh
 * connection for the whole run (`vagrant ssh-config` once, then `ssh -F`), carrying a host shell
 * (host-shell.ts) that runs tnet warm and every other command, as the netns lab does per host.
 *
 * Both backends start every scenario from the same state: no container namespaces or servers
 * left from an earlier (or interrupted) run, no networks in either store, etcd and the agents
 * running for `store etcd`; for `store local` no agent and no etcd at all, as in the lab (a host
 * is driven by one tnet state: a cluster agent would delete a static network's devices as stale).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, CommandResult, LabOptions } from './backend.js';
import { HostShell } from './host-shell-client.js';
import { startProc } from './proc.js';
import { containerNetns } from './topology.js';

/** Static-peer scenarios: a state dir with the local store of its own, beside the cluster's /var/lib/tnet. */
const STATIC_STATE = '/var/lib/tnet-static';
/** With the dial timeout the agent unit has (see the Vagrantfile). */
const GUEST_SHELL = ['sudo', 'env', 'TNET_ETCD_DIAL_TIMEOUT_MS=15000', 'node', '/opt/tnet/dist/scenarios/lab/host-shell.js'];
const HOSTS = ['h1', 'h2', 'h3'];
/** Container namespaces are HOST-NAME (topology.containerNetns). */
const CONTAINER_NS = /^h\d+-/;
const TNET_LINK = /tnbr-|tnvx-|tnv[0-9a-f]/;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Kills whatever still runs in a scenario's container namespaces, then deletes them. */
const REMOVE_CONTAINERS = `for ns in $(ip netns list | cut -d' ' -f1 | grep -E '${CONTAINER_NS.source}'); do
  for pid in $(ip netns pids "$ns"); do kill -9 "$pid" 2>/dev/null; done
  ip netns del "$ns"
done`;

export interface VagrantBackendOptions {
  /** The directory of the Vagrantfile (vagrant runs there). */
  readonly cwd?: string;
}

export const createVagrantBackend = (o: VagrantBackendOptions = {}): Backend => {
  const work = mkdtempSync(join(tmpdir(), 'tnet-vagrant-'));
  let store: LabOptions['store'] = 'etcd';
  const shells = new Map<string, HostShell>();
  /** Started servers not stopped yet, by host and PID. */
  const servers = new Set<string>();

  const shell = (host: string): HostShell => {
    const known = shells.get(host);
    if (known) return known;
    if (!HOSTS.includes(host)) throw new Error(`no machine ${host} in the Vagrantfile (machines: ${HOSTS.join(', ')})`);
    const config = join(work, 'ssh-config');
    if (shells.size === 0) {
      // One `vagrant ssh-config` for all machines (a few seconds of Ruby), then plain ssh.
      writeFileSync(config, execFileSync('vagrant', ['ssh-config', ...HOSTS], { cwd: o.cwd, encoding: 'utf8' }));
    }
    const proc = startProc(['ssh', '-F', config, '-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=10', host, ...GUEST_SHELL], {
      log: join(work, `${host}-shell.log`), stdin: 'pipe', stdout: 'pipe',
    });
    const s = new HostShell(proc);
    shells.set(host, s);
    return s;
  };
  const exec = (host: string, argv: readonly string[], stdin?: string): Promise<CommandResult> => shell(host).exec(argv, stdin);
  const must = async (host: string, argv: readonly string[]): Promise<string> => {
    const r = await exec(host, argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')} on ${host} failed (${r.code}): ${r.err.trim() || r.out.trim()}`);
    return r.out;
  };
  const staticTnet = (host: string, args: readonly string[]): Promise<CommandResult> =>
    shell(host).run(['--state-dir', STATIC_STATE, '--store', `local:${STATIC_STATE}`, ...args]);
  const tnet = (host: string, args: readonly string[]): Promise<CommandResult> => (store === 'etcd' ? shell(host).run(args) : staticTnet(host, args));
  const systemctl = (host: string, ...args: string[]): Promise<string> => must(host, ['systemctl', ...args]);

  /** A unit that dies and stays dead: SIGKILL (no goodbye), then stop, which cancels Restart=. */
  const kill = async (host: string, unit: string): Promise<void> => {
    await systemctl(host, 'kill', '--signal=KILL', unit);
    await systemctl(host, 'stop', unit);
  };
  /** Debian's etcd unit is Type=notify: started means ready to serve. */
  const startEtcd = (host: string): Promise<string> => must(host, ['sh', '-c', 'systemctl reset-failed etcd 2>/dev/null; systemctl start etcd']);
  /**
   * Not waited for: its first start (`host join`) fails until etcd has a quorum and the unit
   * retries; holding a lease is what counts (waitAgentsAlive), as with the lab's agents.
   */
  const startAgent = (host: string): Promise<string> => must(host, ['sh', '-c', 'systemctl reset-failed tnet-agent 2>/dev/null; systemctl start --no-block tnet-agent']);
  const networkNames = (r: CommandResult): string[] => (r.code === 0 ? (JSON.parse(r.out) as Array<{ name: string }>).map((n) => n.name) : []);
  const removeNetworks = async (host: string, run: (args: readonly string[]) => Promise<CommandResult>): Promise<void> => {
    const names = networkNames(await run(['ls', '--json']));
    if (names.length > 0) {
      const r = await run(['rm', '--force', ...names]);
      if (r.code !== 0) throw new Error(`tnet rm --force on ${host}: ${r.err.trim()}`);
    }
  };
  const waitAgentsAlive = async (): Promise<void> => {
    let listed = '';
    // Long enough for the first start after boot: join, then a cold agent on an emulated CPU.
    for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
      const r = await shell('h1').run(['host', 'ls', '--json']);
      listed = r.out.trim() || r.err.trim();
      const hosts = r.code === 0 ? (JSON.parse(r.out) as Array<{ state: string }>) : [];
      if (hosts.length === HOSTS.length && hosts.every((h) => h.state === 'alive')) return;
      await sleep(500);
    }
    throw new Error(`the agents did not all become alive: ${listed}`);
  };
  const waitNoTnetLinks = async (host: string): Promise<void> => {
    let links = '';
    for (let i = 0; i < 60; i++) {
      links = (await exec(host, ['ip', '-o', 'link', 'show'])).out;
      if (!TNET_LINK.test(links)) return;
      await sleep(500);
    }
    throw new Error(`tnet links are still on ${host} after their networks were removed: ${links.split('\n').filter((l) => TNET_LINK.test(l)).join('; ')}`);
  };

  /** One host back to the common starting state, whatever an earlier run left; etcd and its agent running. */
  const resetHost = async (host: string): Promise<void> => {
    for (const key of [...servers].filter((k) => k.startsWith(`${host}/`))) {
      servers.delete(key);
      await exec(host, ['kill', key.slice(host.length + 1)]);
    }
    await must(host, ['sh', '-c', REMOVE_CONTAINERS]);
    // Before the agent runs: it would take a static network's devices for its own stale ones.
    await removeNetworks(host, (args) => staticTnet(host, args));
    await must(host, ['rm', '-rf', STATIC_STATE]);
    await startEtcd(host);
    await startAgent(host);
  };
  /** Every host at once (etcd members wait for each other's quorum), then the cluster's networks go. */
  const reset = async (): Promise<void> => {
    await Promise.all(HOSTS.map(resetHost));
    // Each shell's first etcd command loads etcd3 and gRPC (tens of seconds on an emulated CPU): all at once.
    await Promise.all(HOSTS.map((h) => shell(h).run(['host', 'ls'])));
    await waitAgentsAlive();
    await removeNetworks('h1', (args) => shell('h1').run(args));
    // Every agent removes its own devices for the networks that went.
    await Promise.all(HOSTS.map(waitNoTnetLinks));
  };

  return {
    name: 'vagrant',
    async prepare(options) {
      if (options.hosts > HOSTS.length) throw new Error(`the Vagrantfile defines ${HOSTS.length} machines; the scenario wants ${options.hosts}`);
      store = 'etcd';
      await reset();
      // As in the lab: static peers run with no agent and no etcd at all.
      if (options.store === 'local') await Promise.all(HOSTS.map((h) => systemctl(h, 'stop', 'tnet-agent', 'etcd')));
      store = options.store;
    },
    tnet,
    exec: (host, argv) => exec(host, argv),
    execIn: (host, c, argv) => exec(host, ['ip', 'netns', 'exec', containerNetns(host, c), ...argv]),
    async startIn(host, c, argv) {
      const ns = containerNetns(host, c);
      // `ip netns exec` execs the command, so this PID is the server's own.
      const pid = await shell(host).start(['ip', 'netns', 'exec', ns, ...argv], `/tmp/tnet-scenario-${ns}.log`);
      const key = `${host}/${pid}`;
      servers.add(key);
      return {
        pid,
        stop: async () => {
          if (servers.delete(key)) await exec(host, ['kill', String(pid)]);
        },
      };
    },
    async addContainer(host, c) {
      const ns = containerNetns(host, c);
      await exec(host, ['ip', 'netns', 'del', ns]);
      await must(host, ['ip', 'netns', 'add', ns]);
      await must(host, ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      return ns;
    },
    async writeFile(host, name, text) {
      const path = `/tmp/tnet-scenario-${name}`;
      const r = await exec(host, ['sh', '-c', 'cat > "$1"', 'sh', path], text);
      if (r.code !== 0) throw new Error(`writing ${path} on ${host}: ${r.err.trim()}`);
      return path;
    },
    async setAgent(host, running) {
      await (running ? startAgent(host) : kill(host, 'tnet-agent'));
    },
    async setEtcd(host, running) {
      await (running ? startEtcd(host) : kill(host, 'etcd'));
    },
    async cleanup() {
      store = 'etcd';
      await reset();
    },
    async close() {
      await Promise.allSettled([...shells.values()].map((s) => s.close()));
      shells.clear();
      rmSync(work, { recursive: true, force: true });
    },
  };
};
