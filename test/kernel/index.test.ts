import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKernel, createNamedNetns, deleteNamedNetns } from '../../lib/kernel/index.js';
import { delNetnsWithPrefix, TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { inNetns } from '../helpers/sh.js';

const P = `${TT}kidx-`;
const HOST = `${P}host`;
const C = `${P}c`;

beforeAll(() => {
  createNamedNetns(HOST).close();
  createNamedNetns(C).close();
});

afterAll(() => {
  deleteNamedNetns(HOST);
  deleteNamedNetns(C);
  delNetnsWithPrefix(P);
});

describe('createKernel', () => {
  it('wires netlink, nft and sysctl to the chosen host netns', async () => {
    const k = createKernel(HOST);
    try {
      expect(k.hostNetns.path).toBe(`/run/netns/${HOST}`);
      expect((await k.host.listLinks()).map((l) => l.name)).toEqual(['lo']);
      expect(k.nft.listTable('inet', 'tnet')).toBeUndefined();
      k.nft.run('add table inet tnet');
      expect(inNetns(HOST, 'nft', 'list', 'tables')).toContain('table inet tnet');

      const c = k.openNetns(C);
      const s = k.sessionIn(c);
      try {
        const br = await k.host.createBridge('tnbr-k', { mtu: 1500 });
        await k.host.createVethPair('tnv-k', { mtu: 1500, masterIndex: br.index }, { name: 'eth0', netns: c, mtu: 1500 });
        expect((await s.listLinks()).map((l) => l.name).sort()).toEqual(['eth0', 'lo']);
        k.writeSysctl(c, 'net/ipv6/conf/eth0/disable_ipv6', '1');
        expect(k.readSysctl(c, 'net/ipv6/conf/eth0/disable_ipv6')).toBe('1');
      } finally {
        s.close();
        c.close();
      }
    } finally {
      k.close();
    }
  });

  it('defaults to the current netns and can be closed without using nft', () => {
    const k = createKernel();
    expect(readlinkSync(k.hostNetns.path)).toBe(readlinkSync('/proc/self/ns/net'));
    k.close();
  });

  it('fails with notFound for a missing host netns', () => {
    expect(() => createKernel(`${P}missing`)).toThrow(expect.objectContaining({ kind: 'notFound' }));
  });
});
