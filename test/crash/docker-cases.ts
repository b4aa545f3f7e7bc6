/**
 * A kill -9 of the tnet daemon (docker role) at each step of each Docker operation, then what a
 * Docker user does next. One private dockerd 20.10 per test file (test/helpers/docker.ts; the
 * operations are split over two files, which vitest runs side by side); only
 * the tnet daemon is restarted, once with TNET_TEST_KILL_AT=N and at once again without it (as
 * systemd's Restart= would). A step is a kernel or store change (lib/step-points.ts); one
 * counting run per operation learns how many it takes, placement by the placer included.
 *
 * Covered, each at every one of its steps:
 *   docker network create -d tnet (Docker's IPAM, and --ipam-driver tnet),
 *   docker run -d -p … --network N (CreateEndpoint, Join, ProgramExternalConnectivity, the placement),
 *   docker network connect (tnet's IPAM: RequestAddress, CreateEndpoint, Join, the placement) and disconnect,
 *   docker rm -f of a container with a published port, docker network rm (both IPAMs).
 * What Docker does with a call that died: it sends it again after 1 s, with an EMPTY body (Go's
 * request body was consumed by the first try); tnet refuses that, so the Docker command fails,
 * and Docker forgets what the call was about (no DeleteEndpoint for a failed CreateEndpoint, a
 * DeleteEndpoint that failed is not sent again). After each round: the retried command worked
 * (the container reaches its gateway, the published port answers), store and kernel agree
 * (assertConverged), tnet has exactly the endpoints Docker has, and once the user removed
 * everything nothing of tnet's is left (links, port maps, networks, tnet/docker records).
 * A kill point a round never reaches (a background repair made the counting run one step longer)
 * is reported as such.
 */
import { openApp } from '../../lib/app.js';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_CLI, DOCKER_IMAGE, exec, type Exec } from '../../scenarios/lab/dockerd.js';
import { assertConverged } from '../helpers/convergence.js';
import { startDockerLab, type DockerLab } from '../helpers/docker.js';
import { HOST_UPLINK_V4 } from '../helpers/lab-host.js';
import { tryRun } from '../helpers/sh.js';

let d: DockerLab; // the test file's
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A Docker command, bounded: one whose plugin died mid-call waits for Docker's retries. */
const docker = (...args: string[]): Promise<Exec> => exec(DOCKER_CLI, ['-H', d.dockerd.host, ...args], process.env, 40_000);
const ok = async (...args: string[]): Promise<string> => {
  const r = await docker(...args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim();
};

const SUBNET = '10.60.0.0/24';
const IPAM_SUBNET = '10.61.0.0/24';
const PORT = 18080;
const createNet = () => ['network', 'create', '-d', d.driver, '--subnet', SUBNET, 'tdn'];
const createIpamNet = () => ['network', 'create', '-d', d.driver, '--ipam-driver', d.driver, '--subnet', IPAM_SUBNET, 'tdi'];
const runWeb = () => ['run', '-d', '--name', 'tdw', '--network', 'tdn', '-p', `${PORT}:80`, DOCKER_IMAGE, 'httpd', '-f', '-p', '80', '-h', '/www'];

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> => {
  const started = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not so after ${timeoutMs} ms`);
    await sleep(100);
  }
};

interface TnetEndpoint { readonly ipv4?: string; readonly owner: { readonly kind: string; readonly endpointId?: string }; readonly handover?: { readonly state: string } }
const tnetJson = async <T>(...args: string[]): Promise<T> => JSON.parse(await d.lab.ok(...args)) as T;
const tnetNetworks = async (): Promise<string[]> => (await tnetJson<Array<{ name: string }>>('ls', '--json')).map((n) => n.name);
const tnetEndpoints = async (network: string): Promise<TnetEndpoint[]> => (await tnetJson<Array<{ endpoints: TnetEndpoint[] }>>('inspect', network))[0]?.endpoints ?? [];
const dockerNetworks = async (): Promise<string[]> => (await ok('network', 'ls', '--filter', `driver=${d.driver}`, '--format', '{{.Name}}')).split('\n').filter((s) => s !== '');
const dockerEndpointIds = async (network: string): Promise<string[]> =>
  Object.values(JSON.parse(await ok('network', 'inspect', network, '--format', '{{json .Containers}}')) as Record<string, { EndpointID: string }>).map((c) => c.EndpointID).sort();

/** tnet's records kept for Docker (pools, claims, leases, attachments). */
const dockerRecordKeys = async (under = ''): Promise<string[]> => {
  const app = await openApp({ stateDir: d.lab.stateDir, hostNetns: d.lab.ns });
  try {
    return (await app.ctx.repo.store.list(`tnet/docker/${under}`)).map((v) => v.key.slice(`tnet/docker/${under}`.length));
  } finally {
    await app.close();
  }
};

/** tnet's IPAM: a pool is a Docker network's, a leased address is a Docker endpoint's, and the other way round. */
const ipamAgrees = async (networks: readonly string[]): Promise<void> => {
  const ipam = networks.filter((n) => n === 'tdi');
  const claims = (await dockerRecordKeys('claims/')).sort();
  expect(claims, 'subnets claimed by pools').toEqual(ipam.length === 0 ? [] : [IPAM_SUBNET]);
  const leased = (await dockerRecordKeys(`leases/${IPAM_SUBNET}/`)).sort();
  const held = ipam.length === 0 ? [] : (await tnetEndpoints('tdi')).flatMap((e) => e.ipv4 ?? []).sort();
  expect(leased, 'addresses leased to Docker').toEqual(held);
};

/** Every Docker network of tnet's is a tnet network, with exactly the endpoints Docker has, all placed. */
/** DeleteEndpoint is answered once the endpoint is marked; its veth and record go right after. */
const endpointsGone = (network: string): Promise<void> => until(`the endpoints of ${network} gone`, async () => (await tnetEndpoints(network)).length === 0, 3_000);

const agreesWithDocker = async (): Promise<void> => {
  const networks = await dockerNetworks();
  expect((await tnetNetworks()).sort()).toEqual([...networks].sort());
  for (const n of networks) {
    await until(`the endpoints of ${n} placed`, async () => (await tnetEndpoints(n)).every((e) => e.handover?.state === 'placed'));
    const ours = async (): Promise<string[]> => (await tnetEndpoints(n)).filter((e) => e.owner.kind === 'docker').map((e) => e.owner.endpointId ?? '').sort();
    // A removal Docker has its answer for may still be taking its veth down.
    const docker = await dockerEndpointIds(n);
    await until(`tnet's endpoints of ${n} as Docker's`, async () => JSON.stringify(await ours()) === JSON.stringify(docker), 3_000).catch(() => undefined);
    expect(await ours(), `tnet's endpoints of ${n} and Docker's`).toEqual(docker);
  }
  await ipamAgrees(networks);
};

const wget = (url: string) => tryRun('ip', 'netns', 'exec', d.lab.outside, 'busybox', 'wget', '-qO-', url);
const inside = (name: string, ...cmd: string[]) => docker('exec', name, ...cmd);

/** tdw serves its page on the published port, and reaches its gateway. */
const webServes = async (): Promise<void> => {
  await until('the published port answers', async () => wget(`http://${HOST_UPLINK_V4}:${PORT}/`).stdout === 'hello from tnet\n');
  expect((await inside('tdw', 'ping', '-c1', '-W2', '10.60.0.1')).code).toBe(0);
};

const removeAll = async (): Promise<void> => {
  const ids = (await ok('ps', '-aq')).split('\n').filter((s) => s !== '');
  if (ids.length > 0) await ok('rm', '-f', ...ids);
  const networks = await dockerNetworks();
  if (networks.length > 0) await ok('network', 'rm', ...networks);
};

/** Nothing of tnet's left in the lab host: no network, link, port map or record kept for Docker. */
const nothingLeft = async (): Promise<void> => {
  expect(await tnetNetworks()).toEqual([]);
  expect(d.lab.tnetLinks()).toEqual([]);
  expect(tryRun('ip', '-n', d.lab.ns, '-o', 'link', 'show').stdout).not.toMatch(/: tnd/);
  expect(d.lab.nftTable() ?? '').not.toMatch(/dnat/);
  expect(await dockerRecordKeys()).toEqual([]);
};

interface DockerCrashCase {
  readonly name: string;
  /** Brings Docker and tnet to the state the operation starts from (the daemon runs unkilled). */
  readonly setup: () => Promise<void>;
  readonly op: () => readonly string[];
  /** What the user does next, given how the operation ended (killed or not). */
  readonly next: (op: Exec) => Promise<void>;
  /** What must hold once the user is done. */
  readonly after: () => Promise<void>;
}

const again = (args: () => readonly string[]) => async (op: Exec): Promise<void> => {
  if (op.code !== 0) await ok(...args());
};

export const DOCKER_CASES = {
  create: {
    name: 'docker network create -d tnet',
    setup: async () => undefined,
    op: createNet,
    next: again(createNet),
    after: async () => {
      await until('named tdn', async () => (await tnetNetworks()).includes('tdn'));
    },
  },
  createIpam: {
    name: 'docker network create -d tnet --ipam-driver tnet',
    setup: async () => undefined,
    op: createIpamNet,
    next: again(createIpamNet),
    after: async () => {
      await until('named tdi', async () => (await tnetNetworks()).includes('tdi'));
      expect(JSON.stringify(await tnetJson('inspect', 'tdi'))).toContain(IPAM_SUBNET);
    },
  },
  run: {
    name: 'docker run -d -p --network',
    setup: async () => void (await ok(...createNet())),
    op: runWeb,
    // A run that failed leaves the container created: the user removes it and runs again.
    next: async (op) => {
      if (op.code === 0) return;
      await ok('rm', '-f', 'tdw');
      await ok(...runWeb());
    },
    after: webServes,
  },
  connect: {
    name: 'docker network connect (tnet\'s IPAM)',
    setup: async () => {
      for (const args of [createNet(), createIpamNet(), runWeb()]) await ok(...args);
      await agreesWithDocker();
    },
    op: () => ['network', 'connect', 'tdi', 'tdw'],
    next: again(() => ['network', 'connect', 'tdi', 'tdw']),
    after: async () => {
      // eth1, or eth2 when Docker rolled a first try back (its index is not reused).
      await until('an interface on tdi', async () => /inet 10\.61\.0\.\d+\/24 .* eth[12]/.test((await inside('tdw', 'ip', '-4', 'addr')).stdout));
      expect((await inside('tdw', 'ping', '-c1', '-W2', '10.61.0.1')).code).toBe(0);
      await webServes();
    },
  },
  disconnect: {
    name: 'docker network disconnect',
    setup: async () => {
      for (const args of [createNet(), createIpamNet(), runWeb(), ['network', 'connect', 'tdi', 'tdw']]) await ok(...args);
      await agreesWithDocker();
    },
    op: () => ['network', 'disconnect', 'tdi', 'tdw'],
    next: again(() => ['network', 'disconnect', 'tdi', 'tdw']),
    after: async () => {
      expect((await inside('tdw', 'ip', 'link')).stdout).not.toContain('eth1');
      await endpointsGone('tdi');
      await webServes();
    },
  },
  rmf: {
    name: 'docker rm -f (a published port)',
    setup: async () => {
      for (const args of [createNet(), runWeb()]) await ok(...args);
      await agreesWithDocker();
    },
    op: () => ['rm', '-f', 'tdw'],
    next: again(() => ['rm', '-f', 'tdw']),
    after: async () => {
      await endpointsGone('tdn');
      expect(wget(`http://${HOST_UPLINK_V4}:${PORT}/`).status).not.toBe(0);
      // The port and the address are free again for the next container.
      await ok(...runWeb());
      await webServes();
    },
  },
  networkRm: {
    name: 'docker network rm',
    setup: async () => void (await ok(...createNet())),
    op: () => ['network', 'rm', 'tdn'],
    next: again(() => ['network', 'rm', 'tdn']),
    after: nothingLeft,
  },
  networkRmIpam: {
    name: 'docker network rm (tnet\'s IPAM)',
    setup: async () => void (await ok(...createIpamNet())),
    op: () => ['network', 'rm', 'tdi'],
    next: again(() => ['network', 'rm', 'tdi']),
    after: nothingLeft,
  },
} satisfies Record<string, DockerCrashCase>;

const daemonTail = () => d.daemon().log().split('\n').filter((l) => !l.includes('EndpointOperInfo')).slice(-12).join('\n');

/** The operation once, unkilled, counting the daemon's steps until it has done all of them. */
const countSteps = async (c: DockerCrashCase): Promise<string[]> => {
  const log = join(d.lab.stateDir, 'steps.log');
  rmSync(log, { force: true });
  await c.setup();
  await d.daemon().stop();
  await d.startDaemon({ TNET_TEST_STEP_LOG: log });
  await ok(...c.op());
  await agreesWithDocker();
  await sleep(500);
  const steps = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.replace(/^\d+ /, ''));
  await restartClean();
  await c.after();
  await removeAll();
  await nothingLeft();
  return steps;
};

/** The daemon as systemd runs it, with no kill point. */
const restartClean = async (): Promise<void> => {
  await d.daemon().stop();
  await d.startDaemon();
};

/** After a failed round, whatever it left goes, so that the next round starts clean. */
const cleanUp = async (): Promise<void> => {
  await restartClean();
  for (let i = 0; i < 3; i++) {
    if (await removeAll().then(() => true, () => false)) return;
  }
};

/** One round: killed at step n, then the user's next commands; what Docker said, undefined when step n never came. */
const killedAt = async (c: DockerCrashCase, n: number): Promise<string | undefined> => {
  await c.setup();
  await d.daemon().stop();
  const proc = await d.startDaemon({ TNET_TEST_KILL_AT: String(n) });
  const started = Date.now();
  const running = docker(...c.op());
  // The last steps may come after Docker has its answer (naming, placing): wait for the kill.
  // A background step (a repair racing Docker) may make a run take one step fewer than counted.
  const ended = await Promise.race([proc.exited, running.then(() => sleep(3_000)).then(() => 'not reached')]);
  if (ended === 'not reached') {
    await restartClean();
    await removeAll();
    return undefined;
  }
  if (ended !== 'SIGKILL') throw new Error(`the daemon exited at step ${n} with ${ended}`);
  await d.startDaemon();
  const op = await running;
  const seen = `rc ${op.code} in ${Date.now() - started} ms ${op.stderr.trim()}`;
  await c.next(op);
  await c.after();
  await agreesWithDocker();
  await assertConverged(d.lab);
  await removeAll();
  await nothingLeft();
  return seen;
};

/** The suite for some of the cases, one test each, in a dockerd of the file's own. */
export const dockerCrashSuite = (label: string, keys: ReadonlyArray<keyof typeof DOCKER_CASES>): void => {
  beforeAll(async () => {
    d = await startDockerLab(label);
  }, 180_000);
  afterAll(async () => {
    await d?.destroy();
  }, 180_000);
  describe('a kill -9 of the tnet daemon at any step of a Docker operation, then what the user does next', () => {
    for (const key of keys) {
      const c: DockerCrashCase = DOCKER_CASES[key];
      it(`${c.name}: converges after a kill at each of its steps`, async () => {
        const steps = await countSteps(c);
        const failures: string[] = [];
        let reached = 0;
        for (let n = 1; n <= steps.length; n++) {
          try {
            const seen = await killedAt(c, n);
            if (seen !== undefined) reached++;
            console.log(`${c.name}, killed before step ${n} (${steps[n - 1]}): ${seen ?? 'not reached this time'}`);
          } catch (e) {
            reached++;
            failures.push(`killed before step ${n} (${steps[n - 1]}): ${e instanceof Error ? e.message : String(e)}\ntnet daemon log:\n${daemonTail()}`);
            await cleanUp();
          }
        }
        console.log(`${c.name}: ${steps.length} kill points, ${reached} reached, ${reached - failures.length} converged`);
        expect(failures).toEqual([]);
        expect(reached).toBeGreaterThanOrEqual(Math.min(steps.length, 4));
      }, 600_000);
    }
  });
};
