import { existsSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTnetError } from '../../lib/errors.js';
import { createNamedNetns, currentNetns, deleteNamedNetns, openNetns, withNetns } from '../../lib/kernel/netns.js';
import { addNetns, delNetnsWithPrefix, TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { sh } from '../helpers/sh.js';

const P = `${TT}kns-`;
const here = (): string => readlinkSync('/proc/thread-self/ns/net');
const inodeOf = (path: string): string => sh('stat', '-L', '-c', '%i', path).trim();

afterAll(() => delNetnsWithPrefix(P));

describe('named netns without ip', () => {
  it('creates a netns `ip` can see, refuses a duplicate, deletes idempotently', () => {
    const name = `${P}made`;
    const before = here();
    const h = createNamedNetns(name);
    try {
      expect(here()).toBe(before);
      expect(sh('ip', 'netns', 'list')).toContain(name);
      expect(sh('ip', 'netns', 'exec', name, 'ip', '-o', 'link')).toContain('lo');
      expect(inodeOf(h.path)).not.toBe(inodeOf('/proc/self/ns/net'));
      expect(() => createNamedNetns(name)).toThrow(expect.objectContaining({ kind: 'exists' }));
    } finally {
      h.close();
      deleteNamedNetns(name);
    }
    expect(existsSync(`/run/netns/${name}`)).toBe(false);
    deleteNamedNetns(name);
  });

  it('rejects names with a slash', () => {
    expect(() => createNamedNetns(`${TT}kns/../x`)).toThrow(expect.objectContaining({ kind: 'invalidInput' }));
  });
});

describe('openNetns', () => {
  const name = `${P}open`;
  const path = `/run/netns/${name}`;
  beforeAll(() => {
    addNetns(name);
  });

  it('opens by name, path and PID', () => {
    for (const ref of [name, path]) {
      const h = openNetns(ref);
      expect(h.path).toBe(path);
      h.close();
      h.close(); // idempotent
    }
    const self = openNetns(String(process.pid));
    expect(self.path).toBe(`/proc/${process.pid}/ns/net`);
    self.close();
  });

  it('throws notFound for a missing name, a non-netns file, a dead PID', () => {
    for (const ref of [`${P}missing`, '/etc/hostname', '/proc/self/ns/uts', '999999999', '/nonexistent/x']) {
      let err: unknown;
      try {
        openNetns(ref).close();
      } catch (e) {
        err = e;
      }
      expect(isTnetError(err, 'notFound'), `${ref}: ${String(err)}`).toBe(true);
      expect(String(err)).toContain(ref);
    }
  });

  it('withNetns runs inside the netns and always switches back', () => {
    const h = openNetns(name);
    const before = here();
    try {
      expect(withNetns(h.fd, here)).toBe(`net:[${inodeOf(path)}]`);
      expect(here()).toBe(before);
      expect(() =>
        withNetns(h.fd, () => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(here()).toBe(before);
      const cur = currentNetns();
      expect(withNetns(cur.fd, here)).toBe(before);
      cur.close();
    } finally {
      h.close();
    }
  });
});
