/**
 * Input that must be refused before anything is changed, with a message naming the value: special
 * subnets, values of the wrong family, reserved labels, namespaces that are not a container's
 * (a FIFO, the host's own), spec files that would take over networks or expand without bound, and
 * a state directory that is a file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/cli/main.js';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { sh, tryRun } from '../helpers/sh.js';

let lab: LabHost;
let scratch: string;
beforeAll(async () => {
  lab = createLabHost(`${TT}bi`);
  scratch = mkdtempSync(join(tmpdir(), `${TT}bi-`));
  await lab.ok('create', '--subnet', '10.77.0.0/24', 'base');
});
afterAll(() => {
  lab?.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

const footprint = async (): Promise<string> =>
  JSON.stringify({ links: lab.tnetLinks(), nft: lab.nftTable(), ls: JSON.parse(await lab.ok('ls', '--json')), hostLinks: linkNames(lab.ns) });

const linkNames = (ns: string): string[] => (JSON.parse(sh('ip', '-j', '-n', ns, 'link', 'show')) as Array<{ ifname: string }>).map((l) => l.ifname);

const fails = async (code: number, pattern: RegExp, ...args: string[]): Promise<void> => {
  const before = await footprint();
  const r = await lab.tnet(...args);
  expect(r.err, `tnet ${args.join(' ')}`).toMatch(pattern);
  expect(r.code).toBe(code);
  expect(await footprint()).toBe(before);
};

describe('refused before anything changes', () => {
  it.each([
    ['127.0.0.0/8', /127\.0\.0\.0\/8 overlaps 127\.0\.0\.0\/8, reserved for loopback/],
    ['224.0.0.0/24', /224\.0\.0\.0\/24 overlaps 224\.0\.0\.0\/4, reserved for multicast/],
    ['169.254.0.0/16', /169\.254\.0\.0\/16 overlaps 169\.254\.0\.0\/16, reserved for link-local addresses/],
    ['0.0.0.0/0', /0\.0\.0\.0\/0 overlaps 0\.0\.0\.0\/8/],
  ])('a special-purpose IPv4 subnet: %s', async (subnet, message) => {
    await fails(2, message, 'create', '--subnet', subnet, 'special');
  });

  it('special-purpose IPv6 subnets, and an IPv6 gateway on a network without IPv6', async () => {
    await fails(2, /fe80::\/64 overlaps fe80::\/10, reserved for link-local addresses/, 'create', '--ipv6', '--subnet', 'fe80::/64', 'special');
    await fails(2, /ff02::\/64 overlaps ff00::\/8, reserved for multicast/, 'create', '--ipv6', '--subnet', 'ff02::/64', 'special');
    await fails(2, /--gateway ::1 is an IPv6 value, but the network has no IPv6/, 'create', '--subnet', '10.78.0.0/24', '--gateway', '::1', 'special');
  });

  it('a label key tnet reserves for itself', async () => {
    await fails(2, /labels\.tnet\.applied-from: label keys starting with "tnet\." are tnet's own/, 'create', '--label', 'tnet.applied-from=/etc/x.yaml', 'labelled');
  });

  it('a FIFO as the namespace: refused at once, it does not hang holding the host lock', async () => {
    const fifo = join(scratch, 'fifo');
    sh('mkfifo', fifo);
    await fails(4, /is not a network namespace \(it is a FIFO\)/, 'connect', 'base', '--netns', fifo);
    await fails(4, /is not a network namespace \(it is a directory\)/, 'connect', 'base', '--netns', scratch);
    await lab.ok('connect', 'base', '--netns', lab.container('c1')); // the lock is free: the next command runs
    await lab.ok('disconnect', 'base', '--netns', `${TT}bi-c1`);
  });

  it("the host's own namespace for a bridge endpoint: refused, the host gets no eth0 or default route", async () => {
    await fails(2, /is the host's own network namespace; an endpoint of bridge network base needs a namespace of its own/, 'connect', 'base', '--netns', lab.ns);
    expect(tryRun('ip', '-n', lab.ns, 'link', 'show', 'eth0').status).not.toBe(0);
    expect(sh('ip', '-n', lab.ns, 'route', 'show', 'default')).toBe('');
  });

  it('a state directory that is a file', async () => {
    const file = join(scratch, 'not-a-dir');
    writeFileSync(file, 'x');
    let err = '';
    const code = await runCli(['ls', '--state-dir', file, '--host-netns', lab.ns], { out: () => undefined, err: (t) => (err += t) }, { TNET_CONFIG: '' });
    expect(err).toMatch(new RegExp(`state directory ${file} is not a directory \\(it is a file\\)`));
    expect(code).toBe(2);
  });

  it('a YAML alias bomb: a clear error and exit 2, not an internal error', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const bomb = join(scratch, 'bomb.yaml');
    writeFileSync(bomb, `${levels.join('\n')}\nnetworks: []\n`);
    await fails(2, new RegExp(`${bomb}: .*alias.*\\(at most 100 alias expansions are allowed\\)`, 'i'), 'apply', '-f', bomb);
  });

  it('a spec naming a network made with tnet create: refused without --adopt; adopted in place with it', async () => {
    await lab.ok('connect', 'base', '--netns', lab.container('c2'));
    const spec = join(scratch, 'takeover.yaml');
    writeFileSync(spec, `networks:\n  - name: base\n    subnet: 10.77.0.0/24\n    endpoints:\n      - netns: ${TT}bi-c2\n`);
    await fails(5, /network base was made with tnet create .*not by .*takeover\.yaml; .*--adopt/, 'apply', '-f', spec);
    const plan = await lab.ok('apply', '-f', spec, '--adopt');
    expect(plan).toMatch(/~ network base: labels/);
    expect(plan).not.toMatch(/replace|disconnect|connect/);
    const [net] = JSON.parse(await lab.ok('inspect', 'base')) as Array<{ network: { labels: Record<string, string> }; endpoints: unknown[] }>;
    expect(net?.network.labels['tnet.applied-from']).toBe(spec);
    expect(net?.endpoints).toHaveLength(1);
    expect(await lab.ok('apply', '-f', spec)).toMatch(/No changes/);
    await lab.ok('disconnect', 'base', '--netns', `${TT}bi-c2`);
  });
});
