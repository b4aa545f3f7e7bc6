/** Child processes for store tests: a transpiled copy of lib/ and test/store/ (see transpile.ts). */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { transpileTree } from '../helpers/transpile.js';

export interface ChildScripts {
  /** Runs the child worker with args; resolves when it exits 0, rejects with its stderr otherwise. */
  run(args: readonly string[]): Promise<void>;
  /** Starts the child worker with args, its stdout piped; the caller stops it. */
  start(args: readonly string[]): ChildProcessByStdio<null, Readable, null>;
  remove(): void;
}

export function buildChildScripts(): ChildScripts {
  const { dir, remove } = transpileTree('child', ['lib', 'test/store']);
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
  const start = (args: readonly string[]): ChildProcessByStdio<null, Readable, null> =>
    spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return { run, start, remove };
}
