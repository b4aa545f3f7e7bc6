/** The single-file plugin and CLI (bin/build-plugin.ts) behave like the ES module ones. */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle as bundleEntry } from '../../bin/build-plugin.js';
import { execFile } from '../helpers/cni-plugin.js';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { makeStateDir } from '../helpers/state-dir.js';
import { REPO } from '../helpers/transpile.js';

let lab: LabHost;
let out: { dir: string; remove: () => void };
let bundle: string;
beforeAll(() => {
  lab = createLabHost('tt-cnb');
  out = makeStateDir('bundle');
  symlinkSync(join(REPO, 'node_modules'), join(out.dir, 'node_modules')); // externals resolve from the bundle's place
  bundle = join(out.dir, 'tnet-cni.cjs');
  bundleEntry('bin/cni-main.ts', bundle);
  bundleEntry('bin/cli-main.ts', join(out.dir, 'tnet.cjs'));
});
afterAll(() => {
  lab?.destroy();
  out?.remove();
});

describe('bundled plugin', () => {
  const run = (command: string, env: Record<string, string>, conf: unknown) =>
    execFile(bundle, [], { PATH: process.env['PATH'] ?? '', CNI_COMMAND: command, ...env }, JSON.stringify(conf));

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
  it('runs commands against the kernel and the store, with yargs loaded from node_modules', async () => {
    const cli = (...args: string[]) =>
      execFile('node', [join(out.dir, 'tnet.cjs'), ...args, '--host-netns', lab.ns, '--state-dir', lab.stateDir], { PATH: process.env['PATH'] ?? '' }, '');
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
});
