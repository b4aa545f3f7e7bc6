/** The single-file plugin (bin/build-plugin.ts) behaves like the ES module one. */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundlePlugin } from '../../bin/build-plugin.js';
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
  bundlePlugin(bundle);
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
