/**
 * Every failure a user can cause: a clear message naming the bad value, a non-zero exit, and
 * nothing left behind (no link, no nft table, no record), so a corrected retry succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { inNetns } from '../helpers/sh.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

let lab: LabHost;
beforeAll(async () => {
  lab = createLabHost(`${TT}er`);
  lab.container('c1');
  await lab.ok('create', '--subnet', '10.70.0.0/24', 'base');
  await lab.ok('connect', 'base', '--netns', `${TT}er-c1`, '--ip', '10.70.0.5');
});
afterAll(() => lab?.destroy());

/** Snapshot of everything tnet could leave behind. */
const footprint = async (): Promise<string> =>
  JSON.stringify({ links: lab.tnetLinks(), nft: lab.nftTable(), state: JSON.parse(await lab.ok('inspect', 'base')), ls: await lab.ok('ls', '-q') });

const fails = async (pattern: RegExp, ...args: string[]): Promise<void> => {
  const before = await footprint();
  const r = await lab.tnet(...args);
  expect(r.code, `tnet ${args.join(' ')} should fail`).not.toBe(0);
  expect(r.err).toMatch(pattern);
  expect(await footprint()).toBe(before);
};

describe('bad input', () => {
  it('invalid, overlapping and inconsistent subnets', async () => {
    await fails(/10\.0\.0\.300\/24/, 'create', '--subnet', '10.0.0.300/24', 'n1');
    await fails(/overlap.*base|base.*overlap/i, 'create', '--subnet', '10.70.0.128/25', 'n1');
    await fails(/gateway 10\.71\.1\.1 is outside subnet 10\.71\.0\.0\/24/, 'create', '--subnet', '10.71.0.0/24', '--gateway', '10.71.1.1', 'n1');
    await fails(/10\.72\.0\.0\/16/, 'create', '--subnet', '10.72.0.0/24', '--ip-range', '10.72.0.0/16', 'n1');
    await lab.ok('create', '--subnet', '10.71.0.0/24', '--gateway', '10.71.0.254', 'n1'); // the corrected retry
    await lab.ok('rm', 'n1');
  });

  it('names that exist or do not, unknown drivers and options, names too long for the kernel', async () => {
    await fails(/network "base" already exists/, 'create', 'base');
    await fails(/network "nope" not found/, 'connect', 'nope', '--netns', `${TT}er-c1`);
    await fails(/network "nope" not found/, 'rm', 'nope');
    await fails(/Invalid values:[\s\S]*bogus/, 'create', '--driver', 'bogus', 'n2');
    await fails(/option "color".*bridge\.name/, 'create', '-o', 'color=blue', 'n2');
    await fails(/thisnameiswaytoolong.*15/, 'create', '-o', 'bridge.name=thisnameiswaytoolong', 'n2');
    await fails(/network name "bad\/name"/, "create", "bad/name");
  });

  it('connect: missing namespace, address outside the subnet or taken, twice, bad ifname', async () => {
    lab.container('c2');
    await fails(new RegExp(`${TT}er-ghost`), 'connect', 'base', '--netns', `${TT}er-ghost`);
    await fails(/10\.99\.0\.5.*outside.*10\.70\.0\.0\/24/, 'connect', 'base', '--netns', `${TT}er-c2`, '--ip', '10.99.0.5');
    await fails(/10\.70\.0\.5.*already in use/, 'connect', 'base', '--netns', `${TT}er-c2`, '--ip', '10.70.0.5');
    await fails(/already connected to network base/, 'connect', 'base', '--netns', `${TT}er-c1`);
    await fails(/averyveryverylongname.*15/, 'connect', 'base', '--netns', `${TT}er-c2`, '--ifname', 'averyveryverylongname');
    await fails(/ip6.*IPv6/i, 'connect', 'base', '--netns', `${TT}er-c2`, '--ip6', 'fd00::5');
    await lab.ok('connect', 'base', '--netns', `${TT}er-c2`, '--ip', '10.70.0.6'); // the corrected retry
    await lab.ok('disconnect', 'base', '--netns', `${TT}er-c2`);
  });

  it('an interface name taken by something tnet did not create is refused, and nothing is left', async () => {
    const ns = lab.container('c3');
    inNetns(ns, 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'other0');
    await fails(/already has an interface named eth0/, 'connect', 'base', '--netns', ns);
    expect(inNetns(ns, 'ip', '-o', 'link', 'show')).toContain('other0'); // theirs, untouched
    await lab.ok('connect', 'base', '--netns', ns, '--ifname', 'eth7');
    await lab.ok('disconnect', 'base', '--netns', ns);
  });

  it('disconnecting what is not connected, and removing a network in use', async () => {
    await fails(new RegExp(`${TT}er-c2 is not connected to network base`), 'disconnect', 'base', '--netns', `${TT}er-c2`);
    await fails(/in use by 1 endpoint/, 'rm', 'base');
  });

  it('returns JSON errors with --json', async () => {
    const r = await lab.tnet('rm', 'nope', '--json');
    expect(JSON.parse(r.err)).toEqual({ error: { kind: 'notFound', message: expect.stringMatching(/nope/) } });
  });
});

describe('host and none drivers', () => {
  it('none: the namespace gets only its loopback, up', async () => {
    const ns = lab.container('iso');
    inNetns(ns, 'ip', 'link', 'set', 'lo', 'down');
    await lab.ok('create', '--driver', 'none', 'isolated');
    await lab.ok('connect', 'isolated', '--netns', ns);
    const links = inNetns(ns, 'ip', '-o', 'link', 'show');
    expect(links.trim().split('\n')).toHaveLength(1);
    expect(links).toMatch(/lo: <LOOPBACK,UP/);
    await fails(/driver "none"/, "create", "--driver", "none", "--subnet", "10.80.0.0/24", "none2");
  });

  it('host: creates nothing, and refuses a separate namespace with an explanation', async () => {
    await lab.ok('create', '--driver', 'host', 'hostnet');
    await fails(/host driver.*share the host's own network namespace/, 'connect', 'hostnet', '--netns', `${TT}er-c1`);
    await lab.ok('connect', 'hostnet', '--netns', lab.ns); // the host's own namespace is fine
    expect(lab.tnetLinks().filter((l) => l.startsWith('tnbr-'))).toHaveLength(1); // only base's bridge
  });
});
