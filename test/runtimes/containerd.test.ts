/**
 * containerd 1.6 with `ctr run --cni`: a container gets its address from tnet. ctr reads CNI
 * config only from /etc/cni/net.d and plugins from /opt/cni/bin, so ctr runs in a private mount
 * namespace where our dirs are mounted over those two: the machine's own stay untouched.
 * ctr never sends DEL for a detached container; the test does, as the runtime's stand-in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCniPlugin, execFile, type CniPlugin } from '../helpers/cni-plugin.js';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { busyboxRootfs, loudSkip, missingCommands, unmountUnder } from '../helpers/runtimes.js';
import { makeStateDir } from '../helpers/state-dir.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

const missing = missingCommands(['containerd', 'ctr', 'runc', 'unshare', '/bin/busybox']);
const NET = 'tctr';
const ID = 'tnet-c1';

let lab: LabHost;
let plugin: CniPlugin;
let tmp: { dir: string; remove: () => void };
let daemon: ChildProcess | undefined;
const sock = (): string => join(tmp.dir, 'containerd.sock');
const base = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };

const ctr = async (...args: string[]): Promise<string> => {
  const r = await execFile('ctr', ['-a', sock(), ...args], base);
  if (r.code !== 0) throw new Error(`ctr ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
};

/** `ctr run --cni` with our net.d and plugin dir mounted where ctr looks, in a private mount namespace. */
const ctrRunCni = (...args: string[]): Promise<string> => {
  const script = [
    `mount --bind '${join(tmp.dir, 'net.d')}' /etc/cni/net.d`,
    `mount -t tmpfs tnet-test /opt && mkdir -p /opt/cni/bin && cp '${plugin.plugin}' /opt/cni/bin/tnet`,
    `exec ctr -a '${sock()}' run --cni "$@"`,
  ].join(' && ');
  return execFile('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...args], base).then((r) => {
    if (r.code !== 0) throw new Error(`ctr run --cni failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  });
};

const stopDaemon = async (): Promise<void> => {
  const d = daemon;
  if (d?.pid === undefined || d.exitCode !== null) return;
  const exited = new Promise((resolve) => d.once('exit', resolve));
  process.kill(d.pid, 'SIGTERM');
  const done = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
  if (!done) process.kill(d.pid, 'SIGKILL');
};

describe.skipIf(missing.length > 0 || !existsSync('/etc/cni/net.d'))(loudSkip('containerd', missing), () => {
  beforeAll(async () => {
    lab = createLabHost(`${TT}cnct`);
    plugin = buildCniPlugin();
    tmp = makeStateDir('containerd');
    mkdirSync(join(tmp.dir, 'net.d'));
    const conflist = { cniVersion: '1.0.0', name: NET, plugins: [{ type: 'tnet', subnet: '10.82.0.0/24', stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}` }] };
    writeFileSync(join(tmp.dir, 'net.d', `10-${NET}.conflist`), JSON.stringify(conflist));
    busyboxRootfs(join(tmp.dir, 'rootfs'));
    copyFileSync('/etc/hosts', join(tmp.dir, 'rootfs/etc/hosts'));
    writeFileSync(join(tmp.dir, 'config.toml'), [
      'version = 2',
      `root = "${join(tmp.dir, 'root')}"`,
      `state = "${join(tmp.dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]', `  address = "${sock()}"`,
      '[ttrpc]', `  address = "${sock()}.ttrpc"`,
      '',
    ].join('\n'));
    daemon = spawn('containerd', ['--config', join(tmp.dir, 'config.toml')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if ((await execFile('ctr', ['-a', sock(), 'version'], base)).code === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('containerd did not come up');
  }, 60_000);

  afterAll(async () => {
    if (tmp !== undefined) {
      await execFile('ctr', ['-a', sock(), 'task', 'kill', '-s', 'KILL', ID], base);
      await new Promise((r) => setTimeout(r, 300));
      await execFile('ctr', ['-a', sock(), 'task', 'delete', '-f', ID], base);
      await execFile('ctr', ['-a', sock(), 'container', 'delete', ID], base);
      await stopDaemon();
      unmountUnder(tmp.dir);
      rmSync(tmp.dir, { recursive: true, force: true });
    }
    lab?.destroy();
    plugin?.remove();
  }, 60_000);

  it('ctr run --cni: the container gets its address from tnet; the test frees what containerd never DELs', async () => {
    await ctrRunCni('-d', '--rootfs', join(tmp.dir, 'rootfs'), ID, '/bin/sleep', '1000');
    const report = JSON.parse(await lab.ok('inspect', NET)) as Array<{ endpoints: Array<{ owner: { containerId?: string }; ipv4?: string; netns: string }> }>;
    const [ep] = report[0]?.endpoints ?? [];
    expect(ep?.owner.containerId).toBe(`default-${ID}`); // ctr: <namespace>-<id>
    expect(ep?.netns).toMatch(/^\/proc\/\d+\/ns\/net$/);
    expect(await ctr('task', 'exec', '--exec-id', 'probe', ID, '/bin/ip', '-4', 'addr', 'show', 'eth0')).toContain(`inet ${ep?.ipv4}/24`);

    await ctr('task', 'kill', '-s', 'KILL', ID);
    await new Promise((r) => setTimeout(r, 300));
    await ctr('task', 'delete', ID);
    await ctr('container', 'delete', ID);
    // What containerd would send after `run --rm`: DEL with an empty CNI_NETNS.
    const del = await plugin.call('DEL', { CNI_CONTAINERID: `default-${ID}`, CNI_IFNAME: 'eth0', CNI_NETNS: '' },
      { cniVersion: '1.0.0', name: NET, type: 'tnet', stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}` });
    expect(del.code, del.stdout).toBe(0);
    expect(JSON.parse(await lab.ok('inspect', NET))[0].endpoints).toEqual([]);
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnv'))).toEqual([]);
  }, 120_000);
});
