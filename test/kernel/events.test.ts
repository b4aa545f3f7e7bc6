/**
 * The kernel's change notifications as tnet reads them, in a test namespace: rtnetlink links,
 * addresses, routes, neighbours and netconf, and nftables transactions with their committer's pid
 * and their elements' comments. Changes are made with `ip`, `sysctl` and `nft`, as a person would.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NftBatch, RtnlEvent } from '../../lib/kernel/event-types.js';
import { NAMESPACE_BUFFER_BYTES, openNftEvents, openRtnlEvents, type EventSocket } from '../../lib/kernel/event-sockets.js';
import { openNetns } from '../../lib/kernel/netns.js';
import type { NetnsHandle } from '../../lib/kernel/types.js';
import { addNetns, delNetnsWithPrefix, TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { inNetns, sh } from '../helpers/sh.js';

const P = `${TT}kev-`;
const NS = `${P}h`;
let ns: NetnsHandle;
const rtnl: RtnlEvent[] = [];
const nft: NftBatch[] = [];
const lost: string[] = [];
const sockets: EventSocket[] = [];

const until = async <T>(what: string, find: () => T | undefined): Promise<T> => {
  for (const deadline = Date.now() + 3_000; ; await new Promise((r) => setTimeout(r, 10))) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} notification; got ${JSON.stringify(rtnl.slice(-5))} ${JSON.stringify(nft.slice(-3))}`);
  }
};

beforeAll(() => {
  addNetns(NS);
  ns = openNetns(NS);
  const on = { lost: (why: string) => void lost.push(why) };
  sockets.push(openRtnlEvents(ns, ['link', 'neighbour', 'ipv4Address', 'ipv6Address', 'ipv4Route', 'ipv4Netconf', 'ipv6Netconf'], { ...on, events: (es) => void rtnl.push(...es) }));
  sockets.push(openNftEvents(ns, { ...on, events: (bs) => void nft.push(...bs) }));
});

afterAll(() => {
  for (const s of sockets) s.close();
  ns?.close();
  delNetnsWithPrefix(P);
});

describe('rtnetlink notifications', () => {
  it('name the link created, changed and deleted, with its state', async () => {
    inNetns(NS, 'ip', 'link', 'add', 'tev0', 'type', 'bridge');
    inNetns(NS, 'ip', 'link', 'set', 'tev0', 'mtu', '1400', 'alias', 'tnet:0123456789ab', 'up');
    const changed = await until('link up', () => rtnl.find((e): e is Extract<RtnlEvent, { kind: 'link' }> => e.kind === 'link' && e.name === 'tev0' && e.up && e.mtu === 1400));
    expect(changed).toMatchObject({ op: 'new', alias: 'tnet:0123456789ab' });
    inNetns(NS, 'ip', 'addr', 'add', '10.97.0.1/24', 'dev', 'tev0');
    await until('address', () => rtnl.find((e) => e.kind === 'address' && e.op === 'new' && e.address === '10.97.0.1' && e.prefixLength === 24));
    inNetns(NS, 'ip', 'route', 'add', '10.98.0.0/24', 'via', '10.97.0.2');
    inNetns(NS, 'ip', 'route', 'del', '10.98.0.0/24');
    await until('route removal', () => rtnl.find((e) => e.kind === 'route' && e.op === 'del' && e.destination === '10.98.0.0/24'));
    inNetns(NS, 'ip', 'neigh', 'add', '10.97.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'tev0', 'nud', 'permanent');
    inNetns(NS, 'ip', 'neigh', 'del', '10.97.0.9', 'dev', 'tev0');
    // Deleting a permanent entry first makes it an ordinary one: the removal does not say it was permanent.
    await until('neighbour', () => rtnl.find((e) => e.kind === 'neighbour' && e.op === 'new' && e.permanent && e.index === changed.index));
    await until('neighbour removal', () => rtnl.find((e) => e.kind === 'neighbour' && e.op === 'del' && e.index === changed.index));
    inNetns(NS, 'ip', 'link', 'del', 'tev0');
    await until('link removal', () => rtnl.find((e) => e.kind === 'link' && e.op === 'del' && e.name === 'tev0'));
  });

  it('say when forwarding is switched off, for `all`', async () => {
    inNetns(NS, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    inNetns(NS, 'sysctl', '-qw', 'net.ipv4.ip_forward=0');
    await until('IPv4 forwarding off', () => rtnl.find((e) => e.kind === 'netconf' && e.family === 4 && e.index === -1 && e.forwarding === false));
    inNetns(NS, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1');
    await until('IPv6 forwarding on', () => rtnl.find((e) => e.kind === 'netconf' && e.family === 6 && e.index === -1 && e.forwarding === true));
  });
});

describe('nftables notifications', () => {
  it('come per transaction with the pid that committed it and the comments of its elements', async () => {
    const batch = `add table inet tnet
add map inet tnet m { type inet_proto . inet_service : inet_service; }
add element inet tnet m { tcp . 8080 comment "tnet:0123456789ab:ba9876543210" : 80 }`;
    sh('ip', 'netns', 'exec', NS, 'sh', '-c', `nft -f - <<'EOF'\n${batch}\nEOF`);
    const added = await until('the batch', () => nft.find((b) => b.events.some((e) => e.object === 'element' && e.op === 'new')));
    expect(added.pid).toBeGreaterThan(0);
    expect(added.pid).not.toBe(process.pid);
    expect(added.events.map((e) => `${e.op} ${e.object}`)).toEqual(['new table', 'new set', 'new element']);
    expect(added.events.find((e) => e.object === 'element')).toMatchObject({ family: 1, table: 'tnet', set: 'm', comments: ['tnet:0123456789ab:ba9876543210'] });
    inNetns(NS, 'nft', 'flush', 'ruleset');
    await until('the table deleted', () => nft.find((b) => b.events.some((e) => e.object === 'table' && e.op === 'del' && e.table === 'tnet')));
    expect(lost).toEqual([]);
  });
});

describe('receive buffers', () => {
  /**
   * `ip -batch` floods a fresh namespace while this process does not read (spawnSync): the overrun
   * must come as lost notifications, and the change made after it must still arrive.
   */
  const overrun = async (suffix: string, group: 'link' | 'ipv4Address', buffer: number | undefined, flood: readonly string[], after: readonly [string, ...string[]], arrived: (e: RtnlEvent) => boolean): Promise<void> => {
    const OV = `${P}${suffix}`;
    const batchFile = join(tmpdir(), `${OV}.batch`);
    addNetns(OV);
    const handle = openNetns(OV);
    const dropped: string[] = [];
    const events: RtnlEvent[] = [];
    const socket = openRtnlEvents(handle, [group], { events: (es) => void events.push(...es), lost: (why) => void dropped.push(why) }, buffer);
    try {
      writeFileSync(batchFile, flood.map((line) => `${line}\n`).join(''));
      sh('ip', '-n', OV, '-batch', batchFile);
      await until('an overrun', () => dropped.find((w) => /dropped/.test(w)));
      inNetns(OV, ...after);
      await until('a change after the overrun', () => events.find(arrived));
    } finally {
      socket.close();
      handle.close();
      sh('ip', 'netns', 'del', OV);
      rmSync(batchFile, { force: true });
    }
  };

  it('an overrun of a burst socket is reported as lost notifications, and the process lives on', async () => {
    // 200 new links do not fit in 32 KB (the kernel doubles the 16 KB asked).
    const flood = Array.from({ length: 100 }, (_, i) => `link add tevo${i} type veth peer name tevp${i}`);
    await overrun('ov', 'link', 16 << 10, flood, ['ip', 'link', 'add', 'tevlast', 'type', 'bridge'], (e) => e.kind === 'link' && e.name === 'tevlast');
  });

  it("an overrun of a container's socket is reported too: a container's root must not abort the daemon", async () => {
    // More address notifications than the default buffer (doubled by the kernel) holds.
    const flood = Array.from({ length: Math.ceil((2 * NAMESPACE_BUFFER_BYTES) / 256) }, (_, i) => `addr add 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32 dev lo`);
    await overrun('oc', 'ipv4Address', undefined, flood, ['ip', 'addr', 'add', '192.0.2.1/32', 'dev', 'lo'], (e) => e.kind === 'address' && e.address === '192.0.2.1');
  }, 60_000);

  it('pass net.core.rmem_max when forced: the socket is found by its port among our fds', async () => {
    const { createRequire } = await import('node:module');
    const { readdirSync, readFileSync } = await import('node:fs');
    const { forceReceiveBuffer, netlinkPortOf } = await import('../../lib/kernel/libc.js');
    const { RawNetlinkSocket } = createRequire(import.meta.url)('netlink/dist/raw.js') as typeof import('netlink/dist/raw.js');
    const socket = new RawNetlinkSocket(0, { recvBufferSize: 4096, sendBufferSize: 0 });
    try {
      const fd = readdirSync('/proc/self/fd').map(Number).find((f) => netlinkPortOf(f) === socket.address().port);
      expect(fd).toBeDefined();
      const max = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
      forceReceiveBuffer(fd ?? -1, 2 * max, 'test socket');
      expect(socket.getRecvBufferSize()).toBe(4 * max); // the kernel doubles what it is given
    } finally {
      socket.close();
    }
  });
});
