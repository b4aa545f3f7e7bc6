/**
 * What `npm run build` makes (bin/build.ts): the bundled plugin and CLI behave like the ES module
 * ones, the bundled CLI installs the bundled plugin, and the code cache is used when it fits and
 * ignored when it does not.
 */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLES, bundle, cacheUseOf } from '../../bin/build.js';
import { cacheFileOf } from '../../bin/code-cache.js';
import { execFile } from '../helpers/cni-plugin.js';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { makeStateDir } from '../helpers/state-dir.js';
import { REPO } from '../helpers/transpile.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

let lab: LabHost;
let out: { dir: string; remove: () => void };
let plugin: string;
const PATH = process.env['PATH'] ?? '';
beforeAll(async () => {
  lab = createLabHost(`${TT}cnb`);
  out = makeStateDir('bundle');
  symlinkSync(join(REPO, 'node_modules'), join(out.dir, 'node_modules')); // natives resolve from the bundle's place
  for (const { entry, name } of BUNDLES) await bundle(entry, out.dir, name);
  plugin = join(out.dir, 'tnet-cni.cjs');
}, 120_000);
afterAll(() => {
  lab?.destroy();
  out?.remove();
});

const version = (pluginFile: string) => execFile(pluginFile, [], { PATH, CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.3.1"}');

describe('bundled plugin', () => {
  const run = (command: string, env: Record<string, string>, conf: unknown) =>
    execFile(plugin, [], { PATH, CNI_COMMAND: command, ...env }, JSON.stringify(conf));

  it('answers VERSION and does ADD and DEL, loading natives and lazily imported modules', async () => {
    expect(JSON.parse((await run('VERSION', {}, { cniVersion: '0.3.1' })).stdout)).toMatchObject({ cniVersion: '0.3.1' });
    const ns = lab.container('c');
    const conf = { cniVersion: '1.0.0', name: 'bun', type: 'tnet', subnet: '10.84.0.0/24', stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}` };
    const env = { CNI_CONTAINERID: 'b1', CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0' };
    const add = await run('ADD', env, conf);
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ ips: [{ address: '10.84.0.2/24' }] });
    const bad = await run('ADD', { ...env, CNI_IFNAME: 'averyveryverylongname' }, conf);
    expect(JSON.parse(bad.stdout)).toMatchObject({ code: 4 });
    expect((await run('DEL', env, conf)).code).toBe(0);
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnv'))).toEqual([]);
  });
});

describe('bundled CLI', () => {
  const cli = (...args: string[]) => execFile('node', [join(out.dir, 'tnet.cjs'), ...args, '--host-netns', lab.ns, '--state-dir', lab.stateDir], { PATH }, '');

  it('runs commands against the kernel and the store, with yargs bundled', async () => {
    const created = await cli('create', '--subnet', '10.85.0.0/24', 'cli');
    expect(created.code, created.stderr).toBe(0);
    const listed = JSON.parse((await cli('ls', '--json')).stdout) as Array<{ name: string }>;
    expect(listed.find((n) => n.name === 'cli')).toMatchObject({ ipv4: { subnet: '10.85.0.0/24' } });
    const bad = await cli('create', '--subnet', '10.0.0.300/24', 'bad');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/10\.0\.0\.300\/24/);
    expect((await cli('rm', 'cli')).code).toBe(0);
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnbr-'))).toHaveLength(1); // only the plugin test's network
  });

  it('`cni install` without --plugin installs the bundled plugin next to it, and the wrapper runs it', async () => {
    const dir = join(out.dir, 'cni-bin');
    const installed = await cli('cni', 'install', '--dir', dir);
    expect(installed.code, installed.stderr).toBe(0);
    expect(readFileSync(join(dir, 'tnet'), 'utf8')).toContain(`'${plugin}' "$@"`);
    const v = await version(join(dir, 'tnet'));
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ cniVersion: '0.3.1' });
  });

  it('`cni install --systemd-dir` also writes the socket unit and the daemon\'s service running this CLI', async () => {
    const units = join(out.dir, 'units');
    const socket = join(out.dir, 'cni.sock');
    const installed = await cli('cni', 'install', '--dir', join(out.dir, 'cni-bin2'), '--systemd-dir', units, '--socket', socket);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toContain('systemctl enable --now tnet-cni.socket tnet.service');
    expect(readFileSync(join(units, 'tnet-cni.socket'), 'utf8')).toContain(`ListenStream=${socket}`);
    expect(readFileSync(join(units, 'tnet.service'), 'utf8')).toContain(`ExecStart="${process.execPath}" "${join(out.dir, 'tnet.cjs')}" "--state-dir"`);
    expect(readFileSync(join(units, 'tnet.service'), 'utf8')).toContain(`"daemon" "--cni-socket" "${socket}"`);
  });

  it('`daemon install --systemd-dir` writes the same units, with the daemon\'s own options', async () => {
    const units = join(out.dir, 'daemon-units');
    const installed = await cli('daemon', 'install', '--systemd-dir', units, '--roles', 'repair,cni', '--resync', '60', '--cni-socket', join(out.dir, 'd.sock'));
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toContain('systemctl enable --now tnet-cni.socket tnet.service');
    expect(readFileSync(join(units, 'tnet.service'), 'utf8')).toContain(`"daemon" "--roles" "repair,cni" "--resync" "60" "--cni-socket" "${join(out.dir, 'd.sock')}"`);
    expect(readFileSync(join(units, 'tnet-cni.socket'), 'utf8')).toContain(`ListenStream=${join(out.dir, 'd.sock')}`);
    const bad = await cli('daemon', 'install', '--systemd-dir', units, '--roles', 'repair,dhcp');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown role dhcp; choose from repair, agent, cni, dns');
  });
});

describe('code cache', () => {
  const bundleFile = () => join(out.dir, 'tnet-cni.bundle.cjs');

  /** A copy of the plugin's launcher and bundle in a new dir, with the given cache file content. */
  const copyWithCache = (label: string, cache: Buffer | undefined): string => {
    const dir = join(out.dir, label);
    mkdirSync(dir);
    for (const f of ['tnet-cni.cjs', 'tnet-cni.bundle.cjs']) copyFileSync(join(out.dir, f), join(dir, f));
    if (cache !== undefined) writeFileSync(cacheFileOf(join(dir, 'tnet-cni.bundle.cjs')), cache);
    return dir;
  };

  it('is made for both bundles and used by a fresh node', async () => {
    for (const { name } of BUNDLES) expect(await cacheUseOf(join(out.dir, name.replace(/\.cjs$/, '.bundle.cjs')))).toBe('used');
  });

  it('is ignored when missing, made for another build, or damaged; the plugin still answers', async () => {
    const cache = readFileSync(cacheFileOf(bundleFile()));
    const eol = cache.indexOf(10);
    const damaged = Buffer.concat([cache.subarray(0, eol + 1), Buffer.from('not V8 data')]);
    const cases: Array<[string, Buffer | undefined, string]> = [
      ['missing', undefined, 'none'],
      ['foreign', Buffer.concat([Buffer.from('another-build'), cache.subarray(eol)]), 'none'],
      ['damaged', damaged, 'rejected'],
    ];
    for (const [label, content, use] of cases) {
      const dir = copyWithCache(label, content);
      expect(await cacheUseOf(join(dir, 'tnet-cni.bundle.cjs')), label).toBe(use);
      const v = await version(join(dir, 'tnet-cni.cjs'));
      expect(v.code, `${label}: ${v.stderr}`).toBe(0);
      expect(JSON.parse(v.stdout)).toMatchObject({ cniVersion: '0.3.1' });
    }
  });
});
