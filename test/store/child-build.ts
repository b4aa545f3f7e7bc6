/**
 * Node 20 cannot run TypeScript, so child processes run a transpiled copy of lib/ and test/store/
 * in a temp dir (with node_modules linked in for koffi and etcd3). Transpiling once per test file
 * keeps each child's start at plain-node speed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { makeStateDir } from '../helpers/state-dir.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const tsFilesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));

export interface ChildScripts {
  /** Runs the child worker with args; resolves when it exits 0, rejects with its stderr otherwise. */
  run(args: readonly string[]): Promise<void>;
  remove(): void;
}

export function buildChildScripts(): ChildScripts {
  const { dir, remove } = makeStateDir('child');
  for (const file of [...tsFilesUnder(join(repo, 'lib')), ...tsFilesUnder(join(repo, 'test/store'))]) {
    const out = join(dir, relative(repo, file)).replace(/\.ts$/, '.js');
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  const worker = join(dir, 'test/store/child-worker.js');

  const run = (args: readonly string[]): Promise<void> =>
    new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code, signal) =>
        code === 0 ? resolvePromise() : reject(new Error(`child ${args.join(' ')} exited ${code ?? signal}: ${stderr}`)),
      );
    });
  return { run, remove };
}
