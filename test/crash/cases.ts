/**
 * The operations the crash tests kill step by step, each from a starting state, with its natural
 * retry and what must hold afterwards. Every lab host is fresh, so the cases share addresses.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';
import { killAtEveryStep, tnetProcesses, type CrashCase } from '../helpers/crash.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import type { LabHost } from '../helpers/lab-host.js';
import { inNetns, pingsWithin, sh, tryRun } from '../helpers/sh.js';

const WEB = ['--subnet', '10.90.0.0/24', '--ipv6', '--subnet', 'fd00:90::/64', 'web'];

interface EndpointJson { readonly netns: string; readonly ipv4?: string; readonly ports?: ReadonlyArray<{ hostPort: number }>; readonly owner: { kind: string; containerId?: string } }
interface InspectJson { readonly network: { readonly name: string }; readonly endpoints: readonly EndpointJson[] }

const inspect = async (lab: LabHost, network: string): Promise<InspectJson> => (JSON.parse(await lab.ok('inspect', network)) as InspectJson[])[0]!;
const networkNames = async (lab: LabHost): Promise<string[]> => (JSON.parse(await lab.ok('ls', '--json')) as Array<{ name: string }>).map((n) => n.name);
const ns = (lab: LabHost, name: string): string => `/run/netns/${lab.prefix}${name}`;

const resolvConf = (lab: LabHost, container: string): string => `/etc/netns/${lab.prefix}${container}/resolv.conf`;

/**
 * The container has its endpoint's address and reaches its gateway; attached with the CLI, its
 * resolv.conf names the gateway (a runtime's container learns it from the CNI result instead).
 */
const attached = async (lab: LabHost, network: string, container: string, gateway: string, cli = true): Promise<void> => {
  const e = (await inspect(lab, network)).endpoints.find((x) => x.netns === ns(lab, container));
  expect(e, `${container} on ${network}`).toBeDefined();
  expect(inNetns(`${lab.prefix}${container}`, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0')).toContain(`${e?.ipv4}/`);
  expect(pingsWithin(`${lab.prefix}${container}`, gateway)).toBe(true);
  if (cli) expect(readFileSync(resolvConf(lab, container), 'utf8')).toContain(`nameserver ${gateway}\n`);
  else expect(existsSync(resolvConf(lab, container))).toBe(false);
};

/** The runtime's container is attached, and is the network's only endpoint. */
const podAttached = async (lab: LabHost, containerId: string, container: string): Promise<void> => {
  await attached(lab, 'pods', container, '10.92.0.1', false);
  expect((await inspect(lab, 'pods')).endpoints.map((e) => e.owner)).toEqual([{ kind: 'cni', containerId }]);
};

const detached = (lab: LabHost, container: string): void => {
  expect(tryRun('ip', '-n', `${lab.prefix}${container}`, 'link', 'show', 'eth0').status).not.toBe(0);
  expect(existsSync(resolvConf(lab, container))).toBe(false);
};

const connectAll = async (lab: LabHost, ...specs: Array<[string, ...string[]]>): Promise<void> => {
  for (const [container, ...flags] of specs) await lab.ok('connect', 'web', '--netns', lab.container(container), ...flags);
};

const SPEC_BEFORE = (lab: LabHost) => `networks:
  - name: old
    subnet: 10.91.0.0/24
    endpoints:
      - netns: ${lab.prefix}c1
`;
const SPEC_AFTER = (lab: LabHost) => `networks:
  - name: web
    subnet: 10.90.0.0/24
    endpoints:
      - netns: ${lab.prefix}c1
        ip: 10.90.0.10
        ports: ["8080:80"]
      - netns: ${lab.prefix}c2
`;
const specFile = (lab: LabHost): string => join(lab.stateDir, 'spec.yaml');

const PODS = (portMappings: boolean) => ({
  cniVersion: '1.0.0', name: 'pods', type: 'tnet', subnet: '10.92.0.0/24',
  ...(portMappings ? { capabilities: { portMappings: true }, runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] } } : {}),
});

export const CASES = {
  create: {
    name: 'create',
    setup: async () => undefined,
    op: () => ({ cli: ['create', ...WEB] }),
    after: async (lab) => {
      expect(await networkNames(lab)).toEqual(['web']);
      expect(sh('ip', '-n', lab.ns, '-o', 'addr', 'show')).toContain('10.90.0.1/24');
    },
  },
  rm: {
    name: 'rm --force',
    setup: async (lab) => {
      await lab.ok('create', ...WEB);
      await connectAll(lab, ['c1', '-p', '8080:80'], ['c2']);
    },
    op: () => ({ cli: ['rm', '--force', 'web'] }),
    after: async (lab) => {
      expect(await networkNames(lab)).toEqual([]);
      expect(lab.tnetLinks()).toEqual([]);
      expect(lab.nftTable()).toBeUndefined();
      detached(lab, 'c1');
      // The subnet is free again, and only the new bridge has its gateway.
      await lab.ok('create', '--subnet', '10.90.0.0/24', 'again');
      expect(sh('ip', '-n', lab.ns, '-o', 'addr', 'show').match(/10\.90\.0\.1\/24/g)).toHaveLength(1);
    },
  },
  rmThenCreate: {
    name: 'rm --force, then a create of the same subnet instead of the retry',
    setup: async (lab) => {
      await lab.ok('create', ...WEB);
      await connectAll(lab, ['c1', '-p', '8080:80']);
    },
    op: () => ({ cli: ['rm', '--force', 'web'] }),
    retry: () => [],
    next: () => [{ cli: ['create', '--subnet', '10.90.0.0/24', 'again'] }],
    fromStep: 2,
    after: async (lab) => {
      expect(await networkNames(lab)).toEqual(['again']);
      detached(lab, 'c1');
      expect(sh('ip', '-n', lab.ns, '-o', 'addr', 'show').match(/10\.90\.0\.1\/24/g)).toHaveLength(1);
    },
  },
  connect: {
    name: 'connect',
    setup: async (lab) => {
      await lab.ok('create', ...WEB);
      await connectAll(lab, ['c0', '-p', '9090:90']);
      lab.container('c1');
    },
    op: (lab) => ({ cli: ['connect', 'web', '--netns', `${lab.prefix}c1`, '-p', '8080:80'] }),
    after: async (lab) => attached(lab, 'web', 'c1', '10.90.0.1'),
  },
  disconnect: {
    name: 'disconnect',
    setup: async (lab) => {
      await lab.ok('create', ...WEB);
      await connectAll(lab, ['c1', '-p', '8080:80'], ['c2']);
    },
    op: (lab) => ({ cli: ['disconnect', 'web', '--netns', `${lab.prefix}c1`] }),
    after: async (lab) => {
      detached(lab, 'c1');
      expect((await inspect(lab, 'web')).endpoints.map((e) => e.netns)).toEqual([ns(lab, 'c2')]);
    },
  },
  disconnectThenConnect: {
    name: 'disconnect, then a connect of another container instead of the retry',
    setup: async (lab) => {
      // Room for five: the full network can give the newcomer only the address c1 had.
      await lab.ok('create', '--subnet', '10.90.0.0/29', 'web');
      await connectAll(lab, ['c1', '-p', '8080:80'], ['c2'], ['c3'], ['c4'], ['c5']);
      lab.container('c6');
    },
    op: (lab) => ({ cli: ['disconnect', 'web', '--netns', `${lab.prefix}c1`] }),
    retry: () => [],
    next: (lab) => [{ cli: ['connect', 'web', '--netns', `${lab.prefix}c6`, '-p', '8080:80'] }],
    fromStep: 2,
    after: async (lab) => {
      detached(lab, 'c1');
      await attached(lab, 'web', 'c6', '10.90.0.1');
      expect((await inspect(lab, 'web')).endpoints.find((e) => e.netns === ns(lab, 'c6'))?.ipv4).toBe('10.90.0.2');
    },
  },
  publish: {
    name: 'port publish',
    setup: async (lab) => {
      await lab.ok('create', ...WEB);
      await connectAll(lab, ['c1']);
    },
    op: (lab) => ({ cli: ['port', 'publish', 'web', '--netns', `${lab.prefix}c1`, '-p', '8080:80', '-p', '5353:53/udp'] }),
    after: async (lab) => {
      expect((await inspect(lab, 'web')).endpoints[0]?.ports?.map((p) => p.hostPort)).toEqual([8080, 5353]);
    },
  },
  unpublish: {
    name: 'port unpublish',
    setup: async (lab) => {
      await lab.ok('create', ...WEB);
      await connectAll(lab, ['c1', '-p', '8080:80', '-p', '9090:90']);
    },
    op: (lab) => ({ cli: ['port', 'unpublish', 'web', '--netns', `${lab.prefix}c1`, '-p', '8080:80'] }),
    after: async (lab) => {
      expect((await inspect(lab, 'web')).endpoints[0]?.ports?.map((p) => p.hostPort)).toEqual([9090]);
    },
  },
  apply: {
    name: 'apply',
    setup: async (lab) => {
      lab.container('c1');
      lab.container('c2');
      writeFileSync(specFile(lab), SPEC_BEFORE(lab));
      await lab.ok('apply', '-f', specFile(lab));
      writeFileSync(specFile(lab), SPEC_AFTER(lab));
    },
    op: (lab) => ({ cli: ['apply', '-f', specFile(lab)] }),
    after: async (lab) => {
      expect(await networkNames(lab)).toEqual(['web']);
      await attached(lab, 'web', 'c1', '10.90.0.1');
      await attached(lab, 'web', 'c2', '10.90.0.1');
      expect(await lab.ok('apply', '-f', specFile(lab))).toMatch(/No changes/);
    },
  },
  cniAdd: {
    name: 'CNI ADD',
    setup: async (lab) => void lab.container('c1'),
    op: (lab) => ({ cni: 'ADD', containerId: 'ctr-1', netns: ns(lab, 'c1'), conf: PODS(true) }),
    // What a runtime does when ADD failed: DEL to clean up, then ADD again.
    retry: (lab) => [
      { cni: 'DEL', containerId: 'ctr-1', netns: ns(lab, 'c1'), conf: PODS(true) },
      { cni: 'ADD', containerId: 'ctr-1', netns: ns(lab, 'c1'), conf: PODS(true) },
    ],
    after: (lab) => podAttached(lab, 'ctr-1', 'c1'),
  },
  cniAddAgain: {
    name: 'CNI ADD, retried as ADD',
    setup: async (lab) => void lab.container('c1'),
    op: (lab) => ({ cni: 'ADD', containerId: 'ctr-1', netns: ns(lab, 'c1'), conf: PODS(true) }),
    after: (lab) => podAttached(lab, 'ctr-1', 'c1'),
  },
  cniDel: {
    name: 'CNI DEL',
    setup: async (lab, run) => {
      lab.container('c1');
      lab.container('c2');
      await run({ cni: 'ADD', containerId: 'ctr-1', netns: ns(lab, 'c1'), conf: PODS(true) });
      await run({ cni: 'ADD', containerId: 'ctr-2', netns: ns(lab, 'c2'), conf: PODS(false) });
    },
    op: (lab) => ({ cni: 'DEL', containerId: 'ctr-1', netns: ns(lab, 'c1'), conf: PODS(true) }),
    after: async (lab) => {
      detached(lab, 'c1');
      expect((await inspect(lab, 'pods')).endpoints.map((e) => e.owner)).toEqual([{ kind: 'cni', containerId: 'ctr-2' }]);
    },
  },
} satisfies Record<string, CrashCase>;

/**
 * The suite for some of the cases: one test per case, reporting its kill points. Each test file
 * takes a few cases, so that vitest runs the files (and so the cases) in parallel.
 */
export const crashSuite = (keys: ReadonlyArray<keyof typeof CASES>, options: { readonly etcd?: boolean } = {}): void => {
  const processes = tnetProcesses();
  let etcd: TestEtcd | undefined;
  if (options.etcd === true) beforeAll(async () => void (etcd = await startEtcd()));
  afterAll(async () => {
    processes.remove();
    await etcd?.stop();
  });
  // Every lab host gets a key prefix of its own in the one etcd.
  const storeFor = (labPrefix: string) => (etcd === undefined ? {} : { store: `etcd://${etcd.endpoints[0]?.replace('http://', '')}/${labPrefix}` });
  const where = options.etcd === true ? ' (etcd store)' : '';
  describe(`a kill -9 at any step, then the plain retry${where}`, () => {
    for (const key of keys) {
      const c: CrashCase = CASES[key];
      it(`${c.name}${where}: converges after a kill at each of its steps`, async () => {
        const report = await killAtEveryStep(processes, c, `${TT}k${options.etcd === true ? 'e' : ''}${key.toLowerCase().slice(0, 5)}`, storeFor);
        console.log(`${c.name}${where}: ${report.tried} kill points, ${report.tried - report.failures.length} converged`);
        expect(report.failures).toEqual([]);
        expect(report.steps.length).toBeGreaterThanOrEqual(2);
      }, 600_000);
    }
  });
};
