/** The declarative front door and drift repair, against the real kernel. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabHost, type LabHost } from '../helpers/lab-host.js';
import { pings, pingsWithin, sh, tryRun } from '../helpers/sh.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

let lab: LabHost;
let spec: string;
beforeAll(() => {
  lab = createLabHost(`${TT}ap`);
  lab.container('w1');
  lab.container('w2');
  spec = join(lab.stateDir, 'spec.yaml');
});
afterAll(() => lab?.destroy());

const writeSpec = (text: string): void => writeFileSync(spec, text);

const SPEC = `
networks:
  - name: web
    subnet: 10.60.0.0/24
    endpoints:
      - netns: ${TT}ap-w1
        ip: 10.60.0.10
      - netns: ${TT}ap-w2
`;

describe('apply', () => {
  it('prints the plan and converges; a second apply changes nothing and says so', async () => {
    writeSpec(SPEC);
    const diff = await lab.ok('diff', '-f', spec);
    expect(diff).toMatch(/\+ network web \(bridge\): create/);
    expect(diff).toMatch(new RegExp(`\\+ endpoint ${TT}ap-w1 on web: connect`));
    expect(lab.tnetLinks()).toEqual([]); // diff changed nothing
    const first = await lab.ok('apply', '-f', spec);
    expect(first).toMatch(/Applied: 3 change/);
    expect(pingsWithin(`${TT}ap-w2`, '10.60.0.10')).toBe(true);
    const second = await lab.ok('apply', '-f', spec);
    expect(second).toMatch(/No changes/);
  });

  it('recreates a veth and a bridge deleted by hand, and a flushed firewall table', async () => {
    const [veth] = lab.tnetLinks().filter((l) => l.startsWith('tnv'));
    sh('ip', '-n', lab.ns, 'link', 'del', veth!);
    expect(pings(`${TT}ap-w2`, '10.60.0.10')).toBe(false);
    const repaired = await lab.ok('apply', '-f', spec);
    expect(repaired).toMatch(/~ repair: create veth/);
    expect(pingsWithin(`${TT}ap-w2`, '10.60.0.10')).toBe(true);

    const [bridge] = lab.tnetLinks().filter((l) => l.startsWith('tnbr-'));
    sh('ip', '-n', lab.ns, 'link', 'del', bridge!);
    sh('ip', 'netns', 'exec', lab.ns, 'nft', 'delete', 'table', 'inet', 'tnet');
    const again = await lab.ok('apply', '-f', spec);
    expect(again).toMatch(/~ repair: create bridge/);
    expect(again).toMatch(/~ repair: write nft table inet tnet/);
    expect(pingsWithin(`${TT}ap-w2`, '10.60.0.10')).toBe(true);
    expect(await lab.ok('apply', '-f', spec)).toMatch(/No changes/);
  });

  it('repairs an address removed by hand inside a container', async () => {
    sh('ip', '-n', `${TT}ap-w1`, 'addr', 'flush', 'dev', 'eth0');
    expect(await lab.ok('apply', '-f', spec)).toMatch(/~ repair: add address 10\.60\.0\.10\/24 to eth0/);
    expect(pingsWithin(`${TT}ap-w2`, '10.60.0.10')).toBe(true);
  });

  it('disconnects endpoints and deletes networks the file no longer lists', async () => {
    writeSpec(SPEC.replace(new RegExp(`\\s+- netns: ${TT}ap-w2\\n`), '\n'));
    expect(await lab.ok('apply', '-f', spec)).toMatch(`- endpoint /run/netns/${TT}ap-w2 on web: disconnect`);
    writeSpec('networks: []\n');
    expect(await lab.ok('apply', '-f', spec)).toMatch(/- network web: delete/);
    expect(lab.tnetLinks()).toEqual([]);
    expect(lab.nftTable()).toBeUndefined();
  });

  it('rejects a malformed spec naming the field, and changes nothing', async () => {
    writeSpec(`networks:\n  - name: bad\n    subnet: 10.61.0.0/24\n    endpoints:\n      - netns: ${TT}ap-w1\n        ip: 10.99.0.5\n`);
    const r = await lab.tnet('apply', '-f', spec);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/networks\[0\]\.endpoints\[0\]\.ip/);
    expect(JSON.parse(await lab.ok('ls', '--json'))).toEqual([]);
    writeSpec('networks:\n  - name: [unclosed\n');
    const y = await lab.tnet('apply', '-f', spec);
    expect(y.code).not.toBe(0);
    expect(y.err).toMatch(/spec\.yaml:\d+:\d+/);
  });

  it('rolls back everything an apply created when a later step fails', async () => {
    writeSpec(`
networks:
  - name: ok1
    subnet: 10.62.0.0/24
    endpoints:
      - netns: ${TT}ap-w1
  - name: ok2
    subnet: 10.63.0.0/24
    endpoints:
      - netns: ${TT}ap-missing
`);
    const r = await lab.tnet('apply', '-f', spec);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`${TT}ap-missing`);
    expect(JSON.parse(await lab.ok('ls', '--json'))).toEqual([]);
    expect(lab.tnetLinks()).toEqual([]);
    expect(tryRun('ip', '-n', `${TT}ap-w1`, 'link', 'show', 'eth0').status).not.toBe(0);
  });
});
