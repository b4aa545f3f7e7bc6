/**
 * Named network namespaces for tests. Every test file picks its own prefix (all start with
 * TEST_NETNS_PREFIX) so files can run in parallel, and removes what it made in afterAll/finally.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { sh, tryRun } from './sh.js';

/** tt- by default; a run beside another one on the same machine (a second worktree) sets its own, e.g. tv-. */
export const TEST_NETNS_PREFIX = process.env['TNET_TEST_NS_PREFIX'] ?? 'tt-';

export const addNetns = (name: string): string => {
  if (!name.startsWith(TEST_NETNS_PREFIX)) throw new Error(`test netns ${name} must start with ${TEST_NETNS_PREFIX}`);
  tryRun('ip', 'netns', 'del', name);
  sh('ip', 'netns', 'add', name);
  sh('ip', 'netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  return `/run/netns/${name}`;
};

export const delNetns = (name: string): void => {
  tryRun('ip', 'netns', 'del', name);
};

export const listTestNetns = (prefix = TEST_NETNS_PREFIX): string[] =>
  existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(prefix)) : [];

/** tnet writes /etc/netns/NAME/resolv.conf for named namespaces it connects. */
const NETNS_ETC = '/etc/netns';

export const listTestNetnsEtc = (prefix = TEST_NETNS_PREFIX): string[] =>
  existsSync(NETNS_ETC) ? readdirSync(NETNS_ETC).filter((n) => n.startsWith(prefix)) : [];

export const delNetnsEtc = (name: string): void => rmSync(`${NETNS_ETC}/${name}`, { recursive: true, force: true });

/** Deletes every namespace under prefix, and what tnet wrote for them under /etc/netns (for afterAll of a file that used that prefix). */
export const delNetnsWithPrefix = (prefix: string): void => {
  for (const n of listTestNetns(prefix)) delNetns(n);
  for (const n of listTestNetnsEtc(prefix)) delNetnsEtc(n);
};
