/**
 * Runs once around the whole suite: after it, nothing a test made may remain. Test namespaces
 * all start with TEST_NETNS_PREFIX and state dirs with TEST_STATE_PREFIX; a leftover fails the run.
 */
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delNetns, listTestNetns } from './netns.js';
import { TEST_STATE_PREFIX } from './state-dir.js';

const leftoverStateDirs = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith(TEST_STATE_PREFIX));

export function setup(): void {
  for (const n of listTestNetns()) delNetns(n);
  for (const d of leftoverStateDirs()) rmSync(join(tmpdir(), d), { recursive: true, force: true });
}

export function teardown(): void {
  const netns = listTestNetns();
  const dirs = leftoverStateDirs();
  for (const n of netns) delNetns(n);
  for (const d of dirs) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  if (netns.length > 0 || dirs.length > 0) {
    throw new Error(`tests leaked: netns [${netns.join(', ')}], state dirs [${dirs.join(', ')}]`);
  }
}
