/**
 * Runtimes start many containers at once: 20 plugin processes ADD (then DEL) on one network at
 * the same time, with 0 and with 500 containers already attached, while CLI processes create and
 * delete other networks. Every ADD must succeed with a unique address that really is on the
 * container's eth0, and every DEL must free it. The last round goes through `tnet cni serve`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, type App } from '../../lib/app.js';
import { cniAdd } from '../../lib/cni/attach.js';
import { createNamedNetns } from '../../lib/kernel/index.js';
import { buildCniPlugin, type CniPlugin } from '../helpers/cni-plugin.js';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { inNetns } from '../helpers/sh.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

const PREFIX = `${TT}cnc`;
const CONCURRENT = 20;
const FILL = 500;

let lab: LabHost;
let plugin: CniPlugin;
beforeAll(() => {
  lab = createLabHost(PREFIX);
  plugin = buildCniPlugin();
});
// Removing 500-odd namespaces takes a while on a loaded machine.
afterAll(() => {
  lab?.destroy();
  plugin?.remove();
}, 180_000);

const conf = () => ({ cniVersion: '1.0.0', name: 'busy', type: 'tnet', subnet: '10.77.0.0/20', stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}` });
const envFor = (id: string, ns: string) => ({ CNI_CONTAINERID: id, CNI_NETNS: `/run/netns/${ns}`, CNI_IFNAME: 'eth0' });

/** CLI processes creating and deleting other networks until stopped; resolves with how many ran. */
const churn = (stop: { done: boolean }): Promise<number> =>
  (async () => {
    let runs = 0;
    for (let i = 0; !stop.done; i++) {
      const name = `side${i % 4}`;
      const common = ['--state-dir', lab.stateDir, '--host-netns', lab.ns];
      const c = await plugin.tnet('create', '--subnet', `10.78.${i % 4}.0/24`, name, ...common);
      expect(c.code, c.stderr).toBe(0);
      const r = await plugin.tnet('rm', name, ...common);
      expect(r.code, r.stderr).toBe(0);
      runs += 2;
    }
    return runs;
  })();

const round = async (label: string): Promise<void> => {
  const names = Array.from({ length: CONCURRENT }, (_, i) => lab.container(`${label}${i}`));
  const stop = { done: false };
  const side = churn(stop);
  try {
    const adds = await Promise.all(names.map((ns, i) => plugin.call('ADD', envFor(`${label}-${i}`, ns), conf())));
    for (const r of adds) expect(r.code, r.stdout + r.stderr).toBe(0);
    const ips = adds.map((r) => (r.json as { ips: Array<{ address: string }> }).ips[0]?.address ?? '');
    expect(new Set(ips).size).toBe(CONCURRENT);
    names.forEach((ns, i) => expect(inNetns(ns, 'ip', '-o', '-4', 'addr', 'show', 'eth0')).toContain(ips[i]));

    const dels = await Promise.all(names.map((ns, i) => plugin.call('DEL', envFor(`${label}-${i}`, ns), conf())));
    for (const r of dels) expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const ns of names) expect(inNetns(ns, 'ip', '-o', 'link', 'show')).not.toMatch(/eth0/);
  } finally {
    stop.done = true;
    expect(await side).toBeGreaterThan(0);
  }
  const left = (JSON.parse(await lab.ok('inspect', 'busy')) as Array<{ endpoints: Array<{ owner: { containerId?: string } }> }>)[0]?.endpoints ?? [];
  expect(left.filter((e) => e.owner.containerId?.startsWith(`${label}-`) === true)).toEqual([]);
  expect(await lab.ok('ls', '-q')).not.toMatch(/side/);
};

describe('concurrent ADD and DEL from separate plugin processes', () => {
  it(`${CONCURRENT} at once on an empty network, while the CLI creates and deletes networks`, async () => {
    await round('e');
  }, 120_000);

  it(`${CONCURRENT} at once with ${FILL} containers already attached`, async () => {
    // The fill goes in-process through the same code path (cniAdd) to keep the test short.
    let app: App | undefined;
    try {
      app = await openApp({ stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}` });
      for (let i = 0; i < FILL; i++) {
        const name = `${PREFIX}-pre${i}`;
        createNamedNetns(name).close();
        await cniAdd(app.ctx, {
          network: { name: 'busy', driver: 'bridge', ipv4: { subnet: '10.77.0.0/20' } },
          containerId: `fill-${i}`, netns: `/run/netns/${name}`, ifname: 'eth0', aliases: [], portMappings: [], dns: {},
        });
      }
    } finally {
      await app?.close();
    }
    expect(JSON.parse(await lab.ok('inspect', 'busy'))[0].endpoints).toHaveLength(FILL);
    await round('f');
    expect(JSON.parse(await lab.ok('inspect', 'busy'))[0].endpoints).toHaveLength(FILL);

    // The same through `tnet cni serve`: one process doing all calls concurrently.
    const server = await plugin.serve();
    try {
      await round('w');
      expect(server.log().match(/ w-\d+ eth0: exit 0 in/g)).toHaveLength(2 * CONCURRENT);
    } finally {
      await server.stop();
    }
    expect(JSON.parse(await lab.ok('inspect', 'busy'))[0].endpoints).toHaveLength(FILL);
  }, 600_000);
});
