/**
 * `tnet daemon` as a real process: one per state dir, its control and CNI sockets shrug off
 * garbage, SIGTERM stops it cleanly, a CNI endpoint whose namespace is gone is released as a CNI
 * GC would, kill -9 while containers churn loses nothing (the restarted daemon repairs what
 * changed while it was down), and a daemon started after a "reboot" (no tnet objects, no
 * container namespaces, state on disk) rebuilds the networks and releases or reports the rest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp } from '../../lib/app.js';
import { syncHost } from '../../lib/service/sync.js';
import { buildCniPlugin, type CniPlugin } from '../helpers/cni-plugin.js';
import { waitFor } from '../helpers/daemon.js';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { addNetns, delNetns, TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { inNetns, sh, tryRun } from '../helpers/sh.js';

const PREFIX = `${TT}dpr`;
let lab: LabHost;
let plugin: CniPlugin;
const running = new Set<ChildProcess>();

interface DaemonProc {
  readonly child: ChildProcess;
  log(): string;
  /** Resolves with the exit code (128 + signal number when killed). */
  stop(signal?: NodeJS.Signals): Promise<number>;
}

const base = () => ({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', TNET_CONFIG: '' });
const cliArgs = (...args: string[]) => [plugin.cli, '--host-netns', lab.ns, '--state-dir', lab.stateDir, ...args];

const startDaemon = (...args: string[]): Promise<DaemonProc> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs('daemon', '--roles', 'repair,cni', '--cni-socket', plugin.socket, ...args), { env: base(), stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let log = '';
    const exited = new Promise<number>((done) => child.once('exit', (code, signal) => (running.delete(child), done(code ?? (signal === 'SIGKILL' ? 137 : 143)))));
    const proc: DaemonProc = {
      child,
      log: () => log,
      stop: async (signal = 'SIGTERM') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exited;
      },
    };
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('tnet daemon (pid')) resolve(proc);
    });
    void exited.then((code) => reject(new Error(`tnet daemon exited with ${code} before serving: ${log}`)));
  });

const cli = (...args: string[]) => {
  const r = tryRun(process.execPath, ...cliArgs(...args));
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** One exchange on a unix socket: what we send, then what comes back before it closes. */
const exchange = (path: string, send: Buffer | undefined, halfClose = true): Promise<string> =>
  new Promise((resolve) => {
    const conn = createConnection(path);
    let got = '';
    conn.on('data', (d: Buffer) => (got += d.toString()));
    conn.on('error', () => resolve(got));
    conn.on('close', () => resolve(got));
    conn.on('connect', () => {
      if (send !== undefined) conn.write(send);
      if (halfClose) conn.end();
      else setTimeout(() => conn.destroy(), 50);
    });
  });

const conf = () => ({ cniVersion: '1.0.0', name: 'pw', type: 'tnet', subnet: '10.96.0.0/24', stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}` });
const cniEnv = (id: string, ns: string) => ({ CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0' });
const endpoints = async (): Promise<Array<{ netns: string; owner: { kind: string; containerId?: string } }>> =>
  (JSON.parse(await lab.ok('inspect', 'pw')) as Array<{ endpoints: Array<{ netns: string; owner: { kind: string; containerId?: string } }> }>)[0]?.endpoints ?? [];

/**
 * A full dry-run pass plans nothing: the kernel is exactly as recorded (gone namespaces aside).
 * Under the host lock, as the daemon's passes do: the churn's connects go on meanwhile, and a look
 * that read the host before a connect made its veth and the namespace after would see an
 * interface there that tnet did not make.
 */
const converged = async (): Promise<boolean> => {
  const app = await openApp({ stateDir: lab.stateDir, hostNetns: lab.ns });
  try {
    return await app.ctx.repo.withHostLock(async () => (await syncHost(app.ctx, { scope: 'all', dryRun: true })).actions.length === 0);
  } finally {
    await app.close();
  }
};
const waitConverged = async (what: string, log: () => string): Promise<number> => {
  const started = Date.now();
  for (;;) {
    if (await converged()) return Date.now() - started;
    if (Date.now() - started > 10_000) throw new Error(`${what}: not converged after 10 s; daemon log:\n${log().split('\n').slice(-40).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  lab = createLabHost(PREFIX);
  plugin = buildCniPlugin();
  await lab.ok('create', '--subnet', '10.96.0.0/24', 'pw');
}, 60_000);

afterAll(() => {
  for (const c of running) c.kill('SIGKILL');
  lab?.destroy();
  plugin?.remove();
});

describe('tnet daemon as a process', () => {
  it('is one per state dir, shrugs off garbage on its sockets, and stops cleanly on SIGTERM', async () => {
    const d = await startDaemon();
    const status = JSON.parse(cli('daemon', 'status', '--json').out) as { pid: number; roles: Record<string, unknown> };
    expect(status.pid).toBe(d.child.pid);
    expect(Object.keys(status.roles)).toEqual(['repair', 'cni']);
    expect(cli('daemon', 'status').out).toMatch(/^tnet daemon pid \d+ since .*\nroles: repair \(namespaces 0, resyncSeconds 300\); cni \(socket /);

    const second = cli('daemon', '--roles', 'repair');
    expect(second.code).toBe(5);
    const agent = cli('agent');
    expect(agent.code).toBe(2);
    expect(agent.err).toContain('tnet agent needs this host to be part of a cluster first');
    expect(second.err).toContain(`another tnet daemon (pid ${d.child.pid}) already serves state dir ${lab.stateDir}`);

    const control = join(lab.stateDir, 'daemon.sock');
    expect(await exchange(control, Buffer.from('\x00\xff not json\n'))).toContain('not JSON');
    expect(await exchange(control, Buffer.alloc(100_000, 'x'))).toContain('too long');
    expect(await exchange(control, Buffer.from('{"op":"status"'), false)).toBe('');
    expect(await exchange(control, undefined)).toContain('not JSON');
    expect(await exchange(plugin.socket, Buffer.from('garbage without the framing'))).toMatch(/^1/);
    expect(JSON.parse(await exchange(control, Buffer.from('{"op":"status"}\n')))).toMatchObject({ pid: d.child.pid });

    expect(await d.stop('SIGTERM')).toBe(0);
    expect(d.log()).toMatch(/SIGTERM, stopping\n.*stopping after the work in progress\n.*stopped\n$/);
    expect(existsSync(control)).toBe(false);
    expect(cli('daemon', 'status').code).toBe(4);
  }, 60_000);

  it('releases a CNI endpoint whose namespace is gone, as a CNI GC would; DEL afterwards still succeeds', async () => {
    const d = await startDaemon();
    const ns = lab.container('g1');
    const add = await plugin.call('ADD', cniEnv('gone1', ns), conf());
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(d.log()).toMatch(/cni: ADD gone1 eth0: exit 0/);
    delNetns(ns);
    await waitFor('the endpoint released', () => d.log().includes('released as a CNI GC would'), [], 5_000);
    expect((await endpoints()).filter((e) => e.owner.containerId === 'gone1')).toEqual([]);
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnv'))).toEqual([]);
    expect((await plugin.call('DEL', cniEnv('gone1', ns), conf())).code).toBe(0);
    expect(await d.stop()).toBe(0);
  }, 60_000);

  it('killed with -9 while containers churn, and restarted, loses nothing and repairs what changed meanwhile', async () => {
    const names = Array.from({ length: 4 }, (_, i) => lab.container(`k${i}`));
    const attached = new Set<string>();
    const stop = { done: false };
    // A command racing the damage below may be refused (its table flushed under it). A refused
    // connect leaves nothing; a refused disconnect may have removed the record already (what
    // issue 9's pending phases address), so that namespace is left out of the final comparison.
    let refused = 0;
    const unsure = new Set<string>();
    const churn = (async () => {
      for (let i = 0; !stop.done; i++) {
        const ns = names[i % names.length] ?? '';
        const disconnecting = attached.has(ns);
        const r = await lab.tnet(...(disconnecting ? ['disconnect', 'pw', '--netns', ns] : ['connect', 'pw', '--netns', ns, '-p', `${7000 + (i % names.length)}:80`]));
        if (r.code !== 0 && !(disconnecting && r.err.includes('is not connected'))) {
          refused++;
          if (disconnecting) unsure.add(ns);
          continue;
        }
        unsure.delete(ns);
        if (disconnecting) attached.delete(ns);
        else attached.add(ns);
      }
    })();
    const rounds: string[] = [];
    try {
      for (let round = 0; round < 5; round++) {
        const d = await startDaemon();
        await new Promise((r) => setTimeout(r, 150 + 100 * round));
        // Half the rounds kill it in the middle of a repair.
        if (round % 2 === 1) sh('ip', '-n', lab.ns, 'link', 'del', 'tnbr-' + JSON.parse(await lab.ok('inspect', 'pw'))[0].network.id.slice(0, 10));
        expect(await d.stop('SIGKILL')).toBe(137);
        // While it is down: damage, a CNI container that comes and goes without a DEL, and the churn goes on.
        inNetns(lab.ns, 'nft', 'flush', 'ruleset');
        const orphan = lab.container(`o${round}`);
        expect((await plugin.call('ADD', cniEnv(`orphan${round}`, orphan), conf())).code).toBe(0);
        delNetns(orphan);
        const again = await startDaemon();
        stop.done = round === 4;
        const ms = await waitConverged(`round ${round}`, again.log);
        await waitFor(`round ${round}: the orphan released`, () => again.log().includes(`container orphan${round}`), [], 5_000);
        rounds.push(`round ${round}: killed ${round % 2 === 1 ? 'during a repair' : 'idle'}, converged ${ms} ms after the restart`);
        expect(await again.stop()).toBe(0);
      }
    } finally {
      stop.done = true;
      await churn;
    }
    console.log(`kill -9 rounds (${refused} churn command(s) refused by the damage):\n  ${rounds.join('\n  ')}`);
    expect(await converged()).toBe(true);
    const recorded = (await endpoints()).map((e) => e.netns);
    const path = (n: string): string => `/run/netns/${n}`;
    expect(recorded.filter((p) => !names.some((n) => unsure.has(n) && path(n) === p)).sort()).toEqual([...attached].filter((n) => !unsure.has(n)).map(path).sort());
    for (const p of recorded) await lab.ok('disconnect', 'pw', '--netns', p);
  }, 180_000);

  it('started after a reboot, rebuilds the networks, releases CNI endpoints and reports CLI ones', async () => {
    const cliNs = lab.container('r1');
    const cniNs = lab.container('r2');
    await lab.ok('connect', 'pw', '--netns', cliNs);
    expect((await plugin.call('ADD', cniEnv('boot2', cniNs), conf())).code).toBe(0);
    // What a reboot leaves: the state dir, and none of the kernel's objects or namespaces.
    for (const l of lab.tnetLinks().filter((n) => n.startsWith('tnbr-'))) sh('ip', '-n', lab.ns, 'link', 'del', l);
    inNetns(lab.ns, 'nft', 'flush', 'ruleset');
    inNetns(lab.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=0');
    delNetns(cliNs);
    delNetns(cniNs);
    const d = await startDaemon();
    await waitFor('the CNI endpoint released', () => d.log().includes('container boot2'), [], 5_000);
    await waitConverged('after the reboot', d.log);
    expect(inNetns(lab.ns, 'sysctl', '-n', 'net.ipv4.ip_forward').trim()).toBe('1');
    expect((await endpoints()).map((e) => e.netns)).toEqual([`/run/netns/${cliNs}`]);
    expect(cli('daemon', 'status').out).toContain(`gone: endpoint pw//run/netns/${cliNs}: the namespace is gone; run 'tnet disconnect pw --netns /run/netns/${cliNs}'`);
    const doctor = cli('doctor');
    expect(doctor.code).toBe(1);
    expect(doctor.out).toContain(`namespace-gone: endpoint pw//run/netns/${cliNs}`);
    await lab.ok('disconnect', 'pw', '--netns', cliNs);
    expect(await d.stop()).toBe(0);
    addNetns(cliNs);
  }, 60_000);
});
