import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTnetError } from '../../lib/errors.js';
import { openNetns } from '../../lib/kernel/netns.js';
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

  it('deletes the table', () => {
    nft.run({ nftables: [{ delete: { table } }] });
    expect(nft.listTable('inet', 'tttest')).toBeUndefined();
  });
});
