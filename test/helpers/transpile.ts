/**
 * Node 20 cannot run TypeScript, so tests that need real child processes run a transpiled copy
 * of the sources in a temp dir (with node_modules linked in for koffi, netlink and etcd3).
 * Transpiling once per test file keeps each child's start at plain-node speed.
 */
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { makeStateDir } from './state-dir.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const tsFilesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));

/** Transpiles every .ts under the given repo-relative dirs into a fresh temp dir (same layout). */
export function transpileTree(label: string, dirs: readonly string[]): { dir: string; remove: () => void } {
  const state = makeStateDir(label);
  for (const file of dirs.flatMap((d) => tsFilesUnder(join(REPO, d)))) {
    const out = join(state.dir, relative(REPO, file)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  writeFileSync(join(state.dir, 'package.json'), '{"type":"module"}');
  symlinkSync(join(REPO, 'node_modules'), join(state.dir, 'node_modules'));
  return state;
}
