import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_STATE_PREFIX = 'tnet-test-';

/** A fresh state dir; remove it with the returned function (in afterEach/afterAll). */
export const makeStateDir = (label: string): { dir: string; remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), `${TEST_STATE_PREFIX}${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
};
