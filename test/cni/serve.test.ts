/**
 * `tnet cni serve` and the installed wrapper: with a server listening, calls go through it and
 * answer exactly as the exec'd plugin does; without one (stopped, crashed, never started) the
 * wrapper runs the plugin itself.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCniPlugin, type CniPlugin, type CniServer } from '../helpers/cni-plugin.js';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { loudSkip, missingCommands } from '../helpers/runtimes.js';
import { inNetns } from '../helpers/sh.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

const PREFIX = `${TT}cns`;
let lab: LabHost;
let plugin: CniPlugin;
let server: CniServer | undefined;
beforeAll(() => {
  lab = createLabHost(PREFIX);
  plugin = buildCniPlugin();
});
afterAll(async () => {
  await server?.stop();
  lab?.destroy();
  plugin?.remove();
});

const conf = (extra: Record<string, unknown> = {}) => ({
  cniVersion: '1.0.0', name: 'warm', type: 'tnet', subnet: '10.79.0.0/24', stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}`, ...extra,
});
const envFor = (id: string, ns: string, ifname = 'eth0') => ({ CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: ifname });
const callsServed = (s: CniServer, command: string, id: string): number => s.log().split('\n').filter((l) => l.includes(`${command} ${id} `)).length;

describe('tnet cni serve', () => {
  it('does ADD, CHECK and DEL for the wrapper, with the same results and errors as the plugin', async () => {
    server = await plugin.serve();
    const ns = lab.container('a');
    const add = await plugin.call('ADD', envFor('w1', ns), conf());
    expect(add.code, add.stdout + add.stderr).toBe(0);
    expect(add.json).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: '10.79.0.2/24', gateway: '10.79.0.1' }] });
    expect(inNetns(ns, 'ip', '-o', '-4', 'addr', 'show', 'eth0')).toContain('10.79.0.2/24');
    expect((await plugin.call('CHECK', envFor('w1', ns), conf())).code).toBe(0);
    expect(callsServed(server, 'ADD', 'w1')).toBe(1);
    expect(callsServed(server, 'CHECK', 'w1')).toBe(1);

    // An error reply keeps its JSON and non-zero exit through the socket, and a value with a
    // backslash reaches the plugin unchanged on both paths.
    const backslashed = '10.79.0.0\\/24';
    const badConf = conf({ subnet: backslashed });
    const warmBad = await plugin.call('ADD', envFor('w2', lab.container('b'), 'averyveryverylongname'), badConf);
    expect(warmBad.code).toBe(1);
    expect(warmBad.json).toMatchObject({ code: 4, msg: expect.stringMatching(/CNI_IFNAME/) });
    const warmBadSubnet = await plugin.call('ADD', envFor('w2', lab.container('b')), badConf);
    expect(warmBadSubnet.json).toMatchObject({ code: 7, msg: expect.stringContaining(JSON.stringify(backslashed)) });

    const del = await plugin.call('DEL', envFor('w1', ns), conf());
    expect(del.code, del.stdout).toBe(0);
    expect(del.stdout).toBe('');
    expect(inNetns(ns, 'ip', '-o', 'link', 'show')).not.toMatch(/eth0/);
    expect(callsServed(server, 'DEL', 'w1')).toBe(1);

    expect(await server.stop()).toBe(0);
    server = undefined;
    const coldBadSubnet = await plugin.call('ADD', envFor('w2', lab.container('b')), badConf);
    expect(coldBadSubnet.json).toEqual(warmBadSubnet.json);
  }, 60_000);

  it('serves 20 concurrent ADDs and DELs with unique addresses', async () => {
    server = await plugin.serve();
    const names = Array.from({ length: 20 }, (_, i) => lab.container(`c${i}`));
    const adds = await Promise.all(names.map((ns, i) => plugin.call('ADD', envFor(`cc${i}`, ns), conf())));
    for (const r of adds) expect(r.code, r.stdout + r.stderr).toBe(0);
    const ips = adds.map((r) => (r.json as { ips: Array<{ address: string }> }).ips[0]?.address);
    expect(new Set(ips).size).toBe(20);
    names.forEach((ns, i) => expect(inNetns(ns, 'ip', '-o', '-4', 'addr', 'show', 'eth0')).toContain(ips[i]));
    const dels = await Promise.all(names.map((ns, i) => plugin.call('DEL', envFor(`cc${i}`, ns), conf())));
    for (const r of dels) expect(r.code, r.stdout).toBe(0);
    expect(server.log().match(/: exit 0 in/g)).toHaveLength(40);
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnv'))).toEqual([]);
    await server.stop();
    server = undefined;
  }, 60_000);

  it('stops on SIGTERM, leaving no socket; after a crash the wrapper falls back and a new server takes over', async () => {
    const first = await plugin.serve();
    expect(await first.stop()).toBe(0);
    expect(existsSync(first.socket)).toBe(false);
    const ns = lab.container('f');
    const cold = await plugin.call('ADD', envFor('f1', ns), conf());
    expect(cold.code, cold.stdout + cold.stderr).toBe(0);

    const crashed = await plugin.serve();
    await crashed.kill();
    expect(existsSync(crashed.socket)).toBe(true); // a dead server's socket: connecting is refused
    expect((await plugin.call('DEL', envFor('f1', ns), conf())).code).toBe(0);

    server = await plugin.serve();
    expect(server.log()).toContain('listening on');
    const second = await plugin.tnet('cni', 'serve', '--socket', server.socket);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`already listening on ${server.socket}`);
    await server.stop();
    server = undefined;
    expect(callsServed(crashed, 'DEL', 'f1')).toBe(0);
  }, 60_000);

  const noActivator = missingCommands(['systemd-socket-activate']);
  it.skipIf(noActivator.length > 0)(`${noActivator.length > 0 ? loudSkip('socket activation', noActivator) : 'under systemd socket activation'}: started by the first call, serves on the passed socket, leaves the socket to systemd`, async () => {
    // systemd-socket-activate listens like a socket unit and execs the server at the first connection.
    const activator = spawn('systemd-socket-activate', ['-l', plugin.socket, process.execPath, plugin.cli, 'cni', 'serve', '--socket', plugin.socket], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env['PATH'] ?? '', TNET_CONFIG: '' },
    });
    let log = '';
    activator.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<void>((done) => activator.once('exit', () => done()));
    try {
      for (let i = 0; i < 100 && !existsSync(plugin.socket); i++) await new Promise((r) => setTimeout(r, 20));
      const ns = lab.container('sd');
      const add = await plugin.call('ADD', envFor('sd1', ns), conf());
      expect(add.code, add.stdout + add.stderr + log).toBe(0);
      expect((await plugin.call('DEL', envFor('sd1', ns), conf())).code).toBe(0);
      expect(log).toContain('listening on the socket systemd passed');
      expect(log).toMatch(/ADD sd1 eth0: exit 0 in/);
      expect(log).toMatch(/DEL sd1 eth0: exit 0 in/);
    } finally {
      activator.kill('SIGTERM');
      await exited;
    }
    expect(log).not.toMatch(/Error/);
    expect(existsSync(plugin.socket)).toBe(true); // systemd's to remove, not the server's
  }, 60_000);
});
