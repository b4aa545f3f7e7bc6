/**
 * Podman 4.3 (CNI backend, runc) runs containers on a tnet network through the real plugin. The
 * plugin's conflist points it at a lab host namespace, so bridge and host veths never touch the
 * machine's root namespace; Podman's own netns files (/run/netns/netns-*) are checked to go.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCniPlugin, execFile, type CniPlugin } from '../helpers/cni-plugin.js';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { busyboxRootfs, loudSkip, missingCommands, podmanConfig, unmountUnder } from '../helpers/runtimes.js';
import { makeStateDir } from '../helpers/state-dir.js';

const missing = missingCommands(['podman', 'runc', '/bin/busybox', 'tar']);
const IMAGE = 'tnet-test-busybox';
const NET = 'tpod';

let lab: LabHost;
let plugin: CniPlugin;
let tmp: { dir: string; remove: () => void };
let env: NodeJS.ProcessEnv;
let netnsBefore: Set<string>;

const podman = async (...args: string[]): Promise<string> => {
  const r = await execFile('podman', args, env);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
};
const podmanNetns = (): string[] => readdirSync('/run/netns').filter((n) => n.startsWith('netns-'));

describe.skipIf(missing.length > 0)(loudSkip('Podman', missing), () => {
  beforeAll(async () => {
    lab = createLabHost('tt-cnpm');
    plugin = buildCniPlugin();
    tmp = makeStateDir('podman');
    const netDir = join(tmp.dir, 'net.d');
    mkdirSync(netDir);
    env = podmanConfig(tmp.dir, [plugin.binDir, '/usr/lib/cni'], netDir);
    const conflist = { cniVersion: '1.0.0', name: NET, plugins: [{ type: 'tnet', subnet: '10.81.0.0/24', stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}` }] };
    writeFileSync(join(netDir, `${NET}.conflist`), JSON.stringify(conflist));
    const rootfs = busyboxRootfs(join(tmp.dir, 'rootfs'));
    const tar = await execFile('tar', ['-C', rootfs, '-cf', join(tmp.dir, 'busybox.tar'), '.'], env);
    expect(tar.code, tar.stderr).toBe(0);
    await podman('import', '-q', join(tmp.dir, 'busybox.tar'), IMAGE);
    netnsBefore = new Set(podmanNetns());
  }, 120_000);

  afterAll(async () => {
    if (env !== undefined) {
      await execFile('podman', ['rm', '-f', '-a', '-t', '0'], env);
      await execFile('podman', ['system', 'reset', '--force'], env);
    }
    if (tmp !== undefined) {
      unmountUnder(tmp.dir);
      rmSync(tmp.dir, { recursive: true, force: true });
    }
    lab?.destroy();
    plugin?.remove();
  }, 120_000);

  it('lists the tnet network; two busybox containers ping each other; tnet shows both', async () => {
    expect(await podman('network', 'ls', '--format', '{{.Name}} {{.Driver}}')).toMatch(new RegExp(`^${NET} tnet$`, 'm'));
    const a = await podman('run', '-d', '--name', 'a', '--network', NET, IMAGE, 'sleep', '1000');
    const b = await podman('run', '-d', '--name', 'b', '--network', NET, IMAGE, 'sleep', '1000');
    const ipB = await podman('inspect', 'b', '--format', `{{.NetworkSettings.Networks.${NET}.IPAddress}}`);
    expect(ipB).toMatch(/^10\.81\.0\.\d+$/);
    expect(await podman('exec', 'a', 'ping', '-c', '1', '-W', '2', ipB)).toMatch(/1 packets received/);
    const report = JSON.parse(await lab.ok('inspect', NET)) as Array<{ endpoints: Array<{ owner: { containerId?: string }; ipv4?: string }> }>;
    const endpoints = report[0]?.endpoints ?? [];
    expect(endpoints.map((e) => e.owner.containerId).sort()).toEqual([a, b].sort());
    expect(endpoints.map((e) => e.ipv4)).toContain(ipB);
  }, 120_000);

  it('stop and rm leave nothing behind: no endpoint, no veth, no netns', async () => {
    await podman('stop', '-t', '0', 'a', 'b');
    await podman('rm', 'a', 'b');
    expect(JSON.parse(await lab.ok('inspect', NET))[0].endpoints).toEqual([]);
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnv'))).toEqual([]);
    expect(podmanNetns().filter((n) => !netnsBefore.has(n))).toEqual([]);
  }, 120_000);

  // Needs the port publishing engine (branch `ports`): until it is merged the plugin refuses
  // portMappings with CNI error 2 rather than pretending. See lib/cni/ports.ts (PORTS SEAM).
  it.todo('podman run -p 8080:80 with busybox httpd answers from the host (needs port publishing)');
});
