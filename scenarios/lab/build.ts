/** The lab runs tnet as compiled JS inside host namespaces: compile first when the sources are newer. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whether this file runs from scenarios/lab/ (vitest) or dist/scenarios/lab/ (compiled). */
export const repoRoot = (): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
};

const newest = (dir: string): number => {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
};

export const compiled = (rel: string): string => resolve(repoRoot(), 'dist', rel);

export const ensureBuilt = (): void => {
  const root = repoRoot();
  const marker = compiled('scenarios/lab/host-shell.js');
  const sources = Math.max(...['lib', 'scenarios', 'bin'].map((d) => newest(join(root, d))));
  if (existsSync(marker) && statSync(marker).mtimeMs >= sources) return;
  execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
};
