import { describe, expect, it } from 'vitest';
import { isTnetError } from '../../lib/errors.js';
import { parseStoreUrl } from '../../lib/store/url.js';

describe('parseStoreUrl', () => {
  it.each([
    ['local:', { kind: 'local' }],
    ['local:/var/lib/tnet', { kind: 'local', dir: '/var/lib/tnet' }],
    ['/srv/tnet', { kind: 'local', dir: '/srv/tnet' }],
    ['etcd://h1:2379,h2:2380', { kind: 'etcd', endpoints: ['http://h1:2379', 'http://h2:2380'] }],
    ['etcd://10.0.0.1', { kind: 'etcd', endpoints: ['http://10.0.0.1:2379'] }],
    ['etcd://[fd00::1]:2379/cluster-a', { kind: 'etcd', endpoints: ['http://[fd00::1]:2379'], prefix: '/cluster-a' }],
    ['etcd://h1/', { kind: 'etcd', endpoints: ['http://h1:2379'] }],
  ])('parses %s', (url, expected) => {
    expect(parseStoreUrl(url)).toEqual(expected);
  });

  it.each([
    ['local:relative/dir', 'absolute path'],
    ['relative/dir', 'unknown scheme'],
    ['http://h1:2379', 'unknown scheme "http"'],
    ['etcd://', 'no etcd host'],
    ['etcd://h1:2379,,h2', '"" is not a host name'],
    ['etcd://h1:99999', 'port 99999'],
    ['etcd://h1:port', '"h1:port" is not a host name'],
    ['etcd://::1:2379', 'is not a host name'],
  ])('rejects %s naming the problem', (url, why) => {
    let err: unknown;
    try {
      parseStoreUrl(url);
    } catch (e) {
      err = e;
    }
    expect(isTnetError(err, 'invalidInput')).toBe(true);
    expect((err as Error).message).toContain(JSON.stringify(url));
    expect((err as Error).message).toContain(why);
  });
});

describe('TNET_ETCD_DIAL_TIMEOUT_MS', () => {
  const saved = process.env['TNET_ETCD_DIAL_TIMEOUT_MS'];
  const opening = async (value: string): Promise<unknown> => {
    process.env['TNET_ETCD_DIAL_TIMEOUT_MS'] = value;
    try {
      const { openStore } = await import('../../lib/store/index.js');
      return await openStore('etcd://127.0.0.1:9', '/nonexistent').then(() => 'opened', (e: unknown) => e);
    } finally {
      if (saved === undefined) delete process.env['TNET_ETCD_DIAL_TIMEOUT_MS'];
      else process.env['TNET_ETCD_DIAL_TIMEOUT_MS'] = saved;
    }
  };

  it.each(['abc', '50', '10s', '700000'])('refuses %s, naming the variable and the range', async (value) => {
    const e = await opening(value);
    expect(isTnetError(e) && e.kind).toBe('invalidInput');
    expect((e as Error).message).toContain(`TNET_ETCD_DIAL_TIMEOUT_MS="${value}" is not valid`);
  });
});
