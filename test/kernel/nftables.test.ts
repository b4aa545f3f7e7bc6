import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTnetError } from '../../lib/errors.js';
import { openNetns } from '../../lib/kernel/netns.js';
import { generationOf, openGenerationReader } from '../../lib/kernel/nft-generation.js';
import { openNftSession } from '../../lib/kernel/nftables.js';
import type { NetnsHandle, NftSession } from '../../lib/kernel/types.js';
import { addNetns, delNetnsWithPrefix, TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { inNetns, tryRun } from '../helpers/sh.js';

const NS = `${TT}knft-a`;
let ns: NetnsHandle;
let nft: NftSession;

beforeAll(() => {
  addNetns(NS);
  ns = openNetns(NS);
  nft = openNftSession(ns);
});

afterAll(() => {
  nft?.close();
  ns?.close();
  delNetnsWithPrefix(`${TT}knft-`);
});

const table = { family: 'inet', name: 'tttest' };

describe('generationOf', () => {
  const answer = (type: number, seq: number, attrs: Buffer): Buffer => {
    const head = Buffer.alloc(20);
    head.writeUInt32LE(20 + attrs.length, 0);
    head.writeUInt16LE(type, 4);
    head.writeUInt32LE(seq, 8);
    return Buffer.concat([head, attrs]);
  };
  const attr = (type: number, value: number): Buffer => {
    const a = Buffer.alloc(8);
    a.writeUInt16LE(8, 0);
    a.writeUInt16LE(type, 2);
    a.writeUInt32BE(value, 4);
    return a;
  };
  it('takes NFTA_GEN_ID of the NEWGEN answer to its request, past other attributes', () => {
    expect(generationOf(answer(0x0a0f, 7, Buffer.concat([attr(2, 1234), attr(1, 99)])), 7)).toBe(99);
  });
  it('refuses an answer to another request, an error and a short or malformed message', () => {
    expect(generationOf(answer(0x0a0f, 6, attr(1, 99)), 7)).toBeUndefined();
    expect(generationOf(answer(2, 7, attr(1, 99)), 7)).toBeUndefined();
    expect(generationOf(Buffer.alloc(10), 7)).toBeUndefined();
    const zeroLength = answer(0x0a0f, 7, Buffer.alloc(8));
    expect(generationOf(zeroLength, 7)).toBeUndefined();
  });
});

describe('nft session in a test netns', () => {
  it('creates a table, chain and rule from JSON and lists them', () => {
    nft.run({
      nftables: [
        { add: { table } },
        { add: { chain: { family: 'inet', table: 'tttest', name: 'fwd', type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } } },
        {
          add: {
            rule: {
              family: 'inet',
              table: 'tttest',
              chain: 'fwd',
              comment: 'tnet:test',
              expr: [{ match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } }, { counter: null }, { accept: null }],
            },
          },
        },
      ],
    });
    const items = nft.listTable('inet', 'tttest');
    expect(items).toBeDefined();
    expect(items?.some((i) => 'metainfo' in (i as object))).toBe(false);
    expect(items).toContainEqual({ table: expect.objectContaining({ family: 'inet', name: 'tttest' }) });
    expect(items).toContainEqual({ chain: expect.objectContaining({ name: 'fwd', hook: 'forward' }) });
    expect(items).toContainEqual({ rule: expect.objectContaining({ chain: 'fwd', comment: 'tnet:test' }) });
    expect(inNetns(NS, 'nft', 'list', 'table', 'inet', 'tttest')).toContain('comment "tnet:test"');
    // Not on the host: the session is bound to its netns.
    expect(tryRun('nft', 'list', 'table', 'inet', 'tttest').status).not.toBe(0);
  });

  it('accepts nft text on the same context', () => {
    nft.run('add set inet tttest ports { type inet_service; }\nadd element inet tttest ports { 80, 443 }');
    expect(inNetns(NS, 'nft', 'list', 'set', 'inet', 'tttest', 'ports')).toMatch(/80, 443/);
  });

  it('returns undefined for a missing table', () => {
    expect(nft.listTable('inet', 'ttmissing')).toBeUndefined();
  });

  it('throws with nft text and applies nothing of a failing batch', () => {
    let err: unknown;
    try {
      nft.run({
        nftables: [
          { add: { table: { family: 'inet', name: 'ttatomic' } } },
          { add: { chain: { family: 'inet', name: 'nosuchtable', table: 'ttnope' } } },
        ],
      });
    } catch (e) {
      err = e;
    }
    expect(isTnetError(err, 'notFound'), String(err)).toBe(true);
    expect(String(err)).toContain('No such file or directory');
    expect(nft.listTable('inet', 'ttatomic')).toBeUndefined();

    expect(() => nft.run('add table inet tttest\nadd chain inet tttest fwd { type filter hook forward priority 0; }\nadd rule inet tttest fwd bogus')).toThrow(
      expect.objectContaining({ kind: 'kernel', message: expect.stringContaining('syntax error') }),
    );
  });

  it('maps "File exists" to exists', () => {
    expect(() => nft.run('create table inet tttest')).toThrow(expect.objectContaining({ kind: 'exists' }));
  });

  it('reads the ruleset generation, which any process\'s change moves and nothing else does', () => {
    const reader = openGenerationReader(ns);
    try {
      const first = reader.read();
      expect(first).toEqual(expect.any(Number));
      nft.listTable('inet', 'tttest');
      expect(reader.read()).toBe(first);
      inNetns(NS, 'nft', 'add', 'set', 'inet', 'tttest', 'gen', '{ type ipv4_addr; }');
      const second = reader.read();
      expect(second).not.toBe(first);
      nft.run('add element inet tttest gen { 10.0.0.1 }');
      expect(reader.read()).not.toBe(second);
    } finally {
      reader.close();
    }
    expect(reader.read()).toBeUndefined();
  });

  it('lists what another process changed since the last listing, and the same again when nothing changed', () => {
    const terse = () => nft.listTable('inet', 'tttest', { elements: false });
    const before = nft.listSet('inet', 'tttest', 'gen', 'set');
    expect(nft.listSet('inet', 'tttest', 'gen', 'set')).toEqual(before);
    expect(terse()).toEqual(terse());
    inNetns(NS, 'nft', 'add', 'element', 'inet', 'tttest', 'gen', '{ 10.0.0.2 }');
    expect(JSON.stringify(nft.listSet('inet', 'tttest', 'gen', 'set'))).toContain('10.0.0.2');
    inNetns(NS, 'nft', 'add', 'chain', 'inet', 'tttest', 'other');
    expect(terse()).toContainEqual({ chain: expect.objectContaining({ name: 'other' }) });
    // Each caller gets objects of its own: changing one listing changes no later one.
    const mine = terse() ?? [];
    mine.length = 0;
    expect(terse()).toContainEqual({ chain: expect.objectContaining({ name: 'other' }) });
  });

  it('deletes the table', () => {
    nft.run({ nftables: [{ delete: { table } }] });
    expect(nft.listTable('inet', 'tttest')).toBeUndefined();
  });
});
