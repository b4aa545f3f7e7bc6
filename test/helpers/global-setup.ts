/**
 * Runs once around the whole suite: afterwards, nothing a test made may remain. Test namespaces
 * all start with TEST_NETNS_PREFIX and state dirs with TEST_STATE_PREFIX. Only what appeared
 * during this run counts (another run on the same machine may own the rest), and a leftover
 * fails the run after it has been removed. TNET_TEST_LEAK_CHECK=0 turns this off for runs that
 * share the machine with other runs (their namespaces would look like our leaks).
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delNetns, delNetnsEtc, listTestNetns, listTestNetnsEtc } from './netns.js';
import { tryRun } from './sh.js';
import { TEST_STATE_PREFIX } from './state-dir.js';

/** tnet objects in the machine's own namespace: tests must never create any. */
const rootNamespaceObjects = (): string[] => [
  ...tryRun('ip', '-o', 'link', 'show').stdout.split('\n').filter((l) => /: (tnbr-|tnv)/.test(l)).map((l) => `link ${l.split(':')[1]?.trim()}`),
  ...(tryRun('nft', 'list', 'table', 'inet', 'tnet').status === 0 ? ['nft table inet tnet'] : []),
];

const stateDirs = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith(TEST_STATE_PREFIX));

let before = { netns: new Set<string>(), dirs: new Set<string>(), etc: new Set<string>() };

export function setup(): void {
  before = { netns: new Set(listTestNetns()), dirs: new Set(stateDirs()), etc: new Set(listTestNetnsEtc()) };
}

export function teardown(): void {
  if (process.env['TNET_TEST_LEAK_CHECK'] === '0') return;
  const netns = listTestNetns().filter((n) => !before.netns.has(n));
  const dirs = stateDirs().filter((d) => !before.dirs.has(d));
  const etc = listTestNetnsEtc().filter((n) => !before.etc.has(n));
  for (const n of netns) delNetns(n);
  for (const d of dirs) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  for (const n of etc) delNetnsEtc(n);
  const root = rootNamespaceObjects();
  if (netns.length > 0 || dirs.length > 0 || etc.length > 0 || root.length > 0) {
    const report = `tests leaked: netns [${netns.join(', ')}], state dirs [${dirs.join(', ')}], /etc/netns [${etc.join(', ')}], in the root namespace [${root.join(', ')}]`;
    // vitest only logs an error thrown here and still exits 0: bin/test.sh fails the run on this file.
    const reportFile = process.env['TNET_TEST_LEAK_REPORT'];
    if (reportFile !== undefined) writeFileSync(reportFile, report);
    throw new Error(report);
  }
}
