/**
 * The daemon's repair pass looks without the host lock first, then takes the lock. What a command
 * holding the lock meanwhile did must not be "repaired": here a disconnect and a connect of the
 * same namespace with a port (same endpoint id) happen between the look and the lock.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openApp, type App } from '../../lib/app.js';
import { repair } from '../../lib/daemon/repair-pass.js';
import { createRepairer } from '../../lib/daemon/repairer.js';
import { hostVethNameFor } from '../../lib/model/names.js';
import { connectLocked, removeEndpointsLocked } from '../../lib/service/endpoints.js';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { sh } from '../helpers/sh.js';

const PREFIX = `${TT}rps`;
let lab: LabHost;
let app: App;

beforeAll(async () => {
  lab = createLabHost(PREFIX);
  app = await openApp({ stateDir: lab.stateDir, hostNetns: lab.ns });
  await lab.ok('create', '--subnet', '10.95.0.0/24', 'web');
}, 30_000);

afterAll(async () => {
  await app?.close();
  lab?.destroy();
});

it('plans again under the lock: a reconnect with a port made meanwhile is not repaired', async () => {
  const ns = lab.container('c1');
  await lab.ok('connect', 'web', '--netns', ns);
  const [before] = await app.ctx.repo.listEndpoints('web');
  if (before === undefined) throw new Error('no endpoint recorded');
  // What the look finds to do: the veth is gone.
  sh('ip', '-n', lab.ns, 'link', 'del', hostVethNameFor(before.id));
  let done = false;
  const { repaired } = await app.ctx.repo.withHostLock(async () => {
    const repaired = repair(app.ctx, { endpoints: new Set([before.id]) });
    void repaired.finally(() => (done = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(done, 'the look found the veth missing and waits for the lock').toBe(false);
    // As a command holding the lock: disconnect, then connect again with a port.
    await removeEndpointsLocked(app.ctx, [before]);
    const after = await connectLocked(app.ctx, { network: 'web', netns: ns, ports: [{ protocol: 'tcp', hostPort: 8080, containerPort: 80 }] }, { kind: 'cli' });
    expect(after.id).toBe(before.id);
    return { repaired };
  });
  expect((await repaired).plan.actions).toEqual([]);
}, 30_000);

it("waits for this process's calls on the host lock before it looks (the echo of their changes lands after them)", async () => {
  const repairer = createRepairer(app.ctx, () => undefined);
  try {
    const ns = lab.container('c2');
    const created = await app.ctx.repo.withHostLock(async () => {
      // As a Docker call: its veth's events ask for a pass while it still holds the lock.
      const e = await connectLocked(app.ctx, { network: 'web', netns: ns }, { kind: 'cli' });
      repairer.request({ kind: 'endpoint', id: e.id }, 'link changed');
      await new Promise((r) => setTimeout(r, 300));
      expect(repairer.status().passes, 'no pass while the call holds the lock').toBe(0);
      return e;
    });
    await repairer.idle();
    expect(repairer.status().passes).toBe(1);
    expect(repairer.status().recent, 'the call had made it all: nothing to repair').toEqual([]);
    // A call that keeps the lock does not hold drift repair up for more than a second.
    const started = Date.now();
    await app.ctx.repo.withHostLock(async () => {
      repairer.request({ kind: 'endpoint', id: created.id }, 'link changed');
      while (repairer.status().passes < 2 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 50));
    });
    expect(repairer.status().passes).toBe(2);
    expect(Date.now() - started).toBeLessThan(3_000);
  } finally {
    await repairer.stop(5_000);
  }
}, 30_000);
