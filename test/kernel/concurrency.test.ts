import { afterAll, beforeAll, expect, it } from 'vitest';
import { openNetlinkSession } from '../../lib/kernel/netlink.js';
import { openNetns } from '../../lib/kernel/netns.js';
import type { NetlinkSession, NetnsHandle } from '../../lib/kernel/types.js';
import { addNetns, delNetnsWithPrefix, TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

const NS = `${TT}kcc-a`;
let ns: NetnsHandle;
let s: NetlinkSession;
beforeAll(() => {
  addNetns(NS);
  ns = openNetns(NS);
  s = openNetlinkSession(ns);
});
afterAll(() => {
  s?.close();
  ns?.close();
  delNetnsWithPrefix(`${TT}kcc-`);
});

it('runs concurrent calls on one session (dumps and changes interleaved)', async () => {
  const bridges = await Promise.all(Array.from({ length: 20 }, (_, i) => s.createBridge(`tnbr-c${i}`, { mtu: 1500, alias: `a${i}` })));
  const results = await Promise.all([
    ...Array.from({ length: 10 }, () => s.listLinks()),
    ...bridges.map((b, i) => s.addAddress(b.index, 4, `10.88.${i}.1`, 24)),
    ...Array.from({ length: 10 }, () => s.listAddresses()),
  ]);
  expect(results.length).toBe(40);
  expect((await s.listLinks()).length).toBe(21);
  expect((await s.listAddresses(4)).length).toBe(21);
});
