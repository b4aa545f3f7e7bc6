/**
 * Podman 4.3 (CNI backend, runc) runs containers on a tnet network through the real plugin. The
 * plugin's conflist points it at a lab host namespace, so bridge and host veths never touch the
 * machine's root namespace; Podman's own netns files (/run/netns/netns-*) are checked to go.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCniPlugin, execFile, type CniPlugin } from '../helpers/cni-plugin.js';
import { createLabHost, HOST_UPLINK_V4, type LabHost } from '../helpers/lab-host.js';
import { inNetns } from '../helpers/sh.js';
import { busyboxRootfs, loudSkip, missingCommands, podmanConfig, unmountUnder } from '../helpers/runtimes.js';
import { makeStateDir } from '../helpers/state-dir.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { openApp, type App } from '../../lib/app.js';
import { startDnsService, type DnsService } from '../../lib/dns/service.js';

const missing = missingCommands(['podman', 'runc', '/bin/busybox', 'tar']);
const IMAGE = 'tnet-test-busybox';
const NET = 'tpod';

let lab: LabHost;
let plugin: CniPlugin;
let tmp: { dir: string; remove: () => void };
let env: NodeJS.ProcessEnv;
let netnsBefore: Set<string>;
let app: App | undefined;
let dns: DnsService | undefined;

const podman = async (...args: string[]): Promise<string> => {
  const r = await execFile('podman', args, env);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
};
/** Prints the body of one HTTP GET, or the error; bounded so a dropped connection cannot hang. */
const HTTP_GET = `require('http').get(process.argv[1], (r) => r.pipe(process.stdout)).on('error', (e) => console.log(e.message)).setTimeout(2000, function () { this.destroy(); });`;
const podmanNetns = (): string[] => readdirSync('/run/netns').filter((n) => n.startsWith('netns-'));

describe.skipIf(missing.length > 0)(loudSkip('Podman', missing), () => {
  beforeAll(async () => {
    lab = createLabHost(`${TT}cnpm`);
    plugin = buildCniPlugin();
    tmp = makeStateDir('podman');
    const netDir = join(tmp.dir, 'net.d');
    mkdirSync(netDir);
    env = podmanConfig(tmp.dir, [plugin.binDir, '/usr/lib/cni'], netDir);
    const conflist = { cniVersion: '1.0.0', name: NET, plugins: [{ type: 'tnet', subnet: '10.81.0.0/24', stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}`, capabilities: { portMappings: true, aliases: true } }] };
    writeFileSync(join(netDir, `${NET}.conflist`), JSON.stringify(conflist));
    const rootfs = busyboxRootfs(join(tmp.dir, 'rootfs'));
    const tar = await execFile('tar', ['-C', rootfs, '-cf', join(tmp.dir, 'busybox.tar'), '.'], env);
    expect(tar.code, tar.stderr).toBe(0);
    await podman('import', '-q', join(tmp.dir, 'busybox.tar'), IMAGE);
    netnsBefore = new Set(podmanNetns());
    // tnet's DNS server for the lab host, as `tnet dns serve` would run it; nothing is forwarded.
    writeFileSync(join(tmp.dir, 'host-resolv.conf'), '');
    app = await openApp({ stateDir: lab.stateDir, hostNetns: lab.ns });
    dns = await startDnsService(app.ctx, { resolvConf: join(tmp.dir, 'host-resolv.conf'), log: () => undefined });
  }, 120_000);

  afterAll(async () => {
    await dns?.stop();
    await app?.close();
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

  it('a container resolves another by its name and its --network-alias, through the CNI result\'s DNS', async () => {
    await podman('run', '-d', '--name', 'dnsb', '--network', NET, '--network-alias', 'backend', IMAGE, 'sleep', '1000');
    await podman('run', '-d', '--name', 'dnsa', '--network', NET, IMAGE, 'sleep', '1000');
    const ipB = await podman('inspect', 'dnsb', '--format', `{{.NetworkSettings.Networks.${NET}.IPAddress}}`);
    expect(await podman('exec', 'dnsa', 'cat', '/etc/resolv.conf')).toMatch(/^nameserver 10\.81\.0\.1$/m);
    expect(await podman('exec', 'dnsa', 'nslookup', 'dnsb')).toContain(ipB);
    expect(await podman('exec', 'dnsa', 'nslookup', 'backend')).toContain(ipB);
    await podman('rm', '-f', '-t', '0', 'dnsb');
    const gone = await execFile('podman', ['exec', 'dnsa', 'nslookup', 'dnsb'], env);
    expect(`${gone.stdout}${gone.stderr}`).toMatch(/NXDOMAIN|can't find/);
    await podman('rm', '-f', '-t', '0', 'dnsa');
  }, 120_000);

  it('stop and rm leave nothing behind: no endpoint, no veth, no netns', async () => {
    await podman('stop', '-t', '0', 'a', 'b');
    await podman('rm', 'a', 'b');
    expect(JSON.parse(await lab.ok('inspect', NET))[0].endpoints).toEqual([]);
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnv'))).toEqual([]);
    expect(podmanNetns().filter((n) => !netnsBefore.has(n))).toEqual([]);
  }, 120_000);

  it('podman run -p 8080:80 with busybox httpd answers through the host; rm unpublishes it', async () => {
    await podman('run', '-d', '--name', 'web', '--network', NET, '-p', '8080:80', IMAGE,
      'sh', '-c', 'mkdir -p /www && echo hello-from-tnet > /www/index.html && exec httpd -f -p 80 -h /www');
    // From the lab's "outside" namespace to the lab host's uplink address, as another machine would.
    const get = (): string => inNetns(lab.outside, 'node', '-e', HTTP_GET, `http://${HOST_UPLINK_V4}:8080/`);
    let body = '';
    for (let i = 0; i < 50 && !body.includes('hello-from-tnet'); i++) {
      body = get();
      if (!body.includes('hello-from-tnet')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toContain('hello-from-tnet');
    await podman('rm', '-f', '-t', '0', 'web');
    expect(get()).not.toContain('hello-from-tnet');
    expect(JSON.parse(await lab.ok('inspect', NET))[0].endpoints).toEqual([]);
  }, 120_000);

  it('with `tnet cni serve` running, Podman\'s ADD and DEL go through the server', async () => {
    const server = await plugin.serve();
    try {
      const id = await podman('run', '-d', '--name', 'warm', '--network', NET, IMAGE, 'sleep', '1000');
      const ip = await podman('inspect', 'warm', '--format', `{{.NetworkSettings.Networks.${NET}.IPAddress}}`);
      expect(await podman('exec', 'warm', 'ping', '-c', '1', '-W', '2', '10.81.0.1')).toMatch(/1 packets received/);
      expect(JSON.parse(await lab.ok('inspect', NET))[0].endpoints.map((e: { ipv4?: string }) => e.ipv4)).toEqual([ip]);
      await podman('rm', '-f', '-t', '0', 'warm');
      expect(server.log()).toMatch(new RegExp(`ADD ${id} eth0: exit 0`));
      expect(server.log()).toMatch(new RegExp(`DEL ${id} eth0: exit 0`));
      expect(JSON.parse(await lab.ok('inspect', NET))[0].endpoints).toEqual([]);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);
});
