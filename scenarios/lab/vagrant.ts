/**
 * The Vagrant backend: the same scenario steps on the machines of ./Vagrantfile, each through
 * `vagrant ssh HOST -c …` (machines h1..h3 with the lab's addressing; etcd and `tnet agent` run
 * as systemd units, see the Vagrantfile). It cannot run on a machine without a hypervisor; it is
 * kept small so that the only difference to the netns lab is how a command reaches a host.
 */
import { spawn } from 'node:child_process';
import type { Backend, CommandResult, LabOptions } from './backend.js';
import { containerNetns } from './topology.js';

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

const ssh = (host: string, command: string, stdin?: string): Promise<CommandResult> =>
  new Promise((resolve) => {
    const child = spawn('vagrant', ['ssh', host, '-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => (err += String(e)));
    child.on('close', (code) => resolve({ code: code ?? 1, out, err }));
    child.stdin.end(stdin ?? '');
  });

/** Static-peer scenarios use a second state dir with the local store, beside the etcd-backed one. */
const STATIC_STATE = '/var/lib/tnet-static';

export const createVagrantBackend = (): Backend => {
  let store: LabOptions['store'] = 'etcd';
  const made: Array<{ host: string; ns: string }> = [];
  /** Started servers not stopped yet; cleanup stops any the runner did not, before their namespaces go. */
  const servers = new Map<string, { host: string; pid: number }>();
  const stopServer = async (host: string, pid: number): Promise<void> => {
    if (servers.delete(`${host}/${pid}`)) await ssh(host, `sudo kill ${pid}`);
  };
  const tnetPrefix = (): string => (store === 'etcd' ? 'sudo tnet' : `sudo env -u TNET_STORE tnet --store local:${STATIC_STATE}`);
  const run = (host: string, argv: readonly string[]): Promise<CommandResult> => ssh(host, `sudo ${argv.map(quote).join(' ')}`);
  const hosts = ['h1', 'h2', 'h3'];

  return {
    name: 'vagrant',
    async prepare(options) {
      if (options.hosts > hosts.length) throw new Error(`the Vagrantfile defines ${hosts.length} machines; the scenario wants ${options.hosts}`);
      store = options.store;
    },
    tnet: (host, args) => ssh(host, `${tnetPrefix()} ${args.map(quote).join(' ')}`),
    exec: run,
    execIn: (host, c, argv) => run(host, ['ip', 'netns', 'exec', containerNetns(host, c), ...argv]),
    async startIn(host, c, argv) {
      // A root shell backgrounds it with every stdio redirected (so ssh returns) and prints its
      // PID: nohup and `ip netns exec` both exec, so that PID is the server's own, not a wrapper's.
      const log = `/tmp/tnet-scenario-${containerNetns(host, c)}.log`;
      const inner = `nohup ip netns exec ${quote(containerNetns(host, c))} ${argv.map(quote).join(' ')} >${quote(log)} 2>&1 </dev/null & echo $!`;
      const r = await ssh(host, `sudo sh -c ${quote(inner)}`);
      const pid = Number(r.out.trim().split('\n').pop());
      if (r.code !== 0 || !Number.isInteger(pid) || pid <= 0) throw new Error(`cannot start ${argv[0] ?? ''} in ${c} on ${host}: ${r.err.trim() || r.out.trim()}`);
      servers.set(`${host}/${pid}`, { host, pid });
      return { pid, stop: () => stopServer(host, pid) };
    },
    async addContainer(host, c) {
      const ns = containerNetns(host, c);
      await run(host, ['ip', 'netns', 'del', ns]);
      const r = await ssh(host, `sudo ip netns add ${quote(ns)} && sudo ip -n ${quote(ns)} link set lo up`);
      if (r.code !== 0) throw new Error(`ip netns add ${ns} on ${host}: ${r.err}`);
      made.push({ host, ns });
      return ns;
    },
    async writeFile(host, name, text) {
      const path = `/tmp/tnet-scenario-${name}`;
      await ssh(host, `cat > ${quote(path)}`, text);
      return path;
    },
    async setAgent(host, running) {
      // Killing, not stopping: a dead host does not say goodbye; its lease has to run out.
      await ssh(host, running ? 'sudo systemctl start tnet-agent' : 'sudo systemctl kill -s KILL tnet-agent');
    },
    async setEtcd(host, running) {
      await ssh(host, running ? 'sudo systemctl start etcd' : 'sudo systemctl kill -s KILL etcd');
    },
    async cleanup() {
      for (const { host, pid } of [...servers.values()]) await stopServer(host, pid);
      for (const { host, ns } of made.splice(0)) await run(host, ['ip', 'netns', 'del', ns]);
      for (const h of hosts) await ssh(h, 'sudo systemctl start etcd tnet-agent');
      for (const h of store === 'etcd' ? ['h1'] : hosts) {
        const ls = await ssh(h, `${tnetPrefix()} ls --json`);
        const names = ls.code === 0 ? (JSON.parse(ls.out) as Array<{ name: string }>).map((n) => n.name) : [];
        if (names.length > 0) await ssh(h, `${tnetPrefix()} rm --force ${names.map(quote).join(' ')}`);
      }
    },
    close: async () => undefined,
  };
};
