import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_NETNS_PREFIX } from './netns.js';

/** Per run, like the namespace prefix, so the leak check of one run never counts another's. */
export const TEST_STATE_PREFIX = `tnet-test-${TEST_NETNS_PREFIX}`;

/** A fresh state dir; remove it with the returned function (in afterEach/afterAll). */
export const makeStateDir = (label: string): { dir: string; remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), `${TEST_STATE_PREFIX}${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};
