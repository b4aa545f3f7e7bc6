/**
 * Runs a CommonJS bundle with V8's code cache: bytecode for every function of the bundle, made
 * by `npm run build` (bin/build.ts), so a cold process neither parses nor compiles the bundle.
 * This is what the launchers dist/bin/tnet-cni.cjs and dist/bin/tnet.cjs are built from.
 * Node 20's require() takes no cached data, hence vm.Script and the CommonJS wrapper by hand.
 * Fails safe: a missing, unreadable or foreign cache (other bundle, node or V8 flags) means
 * V8 compiles the bundle as usual.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** The bundle as a function of CommonJS's module variables; one line, so line numbers still match. */
export const wrapBundle = (source: string): string => `(function (exports, require, module, __filename, __dirname) {${source}\n})`;

export const cacheFileOf = (bundleFile: string): string => `${bundleFile}.cache`;

/**
 * V8 checks a cache against the source's length only, so the cache names its bundle: the cache
 * file is the build id, a newline, then V8's data, and the bundle's last line is buildIdLine(id).
 */
export const buildIdLine = (id: string): string => `//# tnet-build ${id}`;

export const cacheFileContent = (id: string, data: Buffer): Buffer => Buffer.concat([Buffer.from(`${id}\n`), data]);

/** V8's data, if the cache file belongs to this source. */
const cachedDataFor = (source: string, cacheFile: string): Buffer | undefined => {
  let content: Buffer;
  try {
    content = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  const eol = content.indexOf(10);
  if (eol <= 0 || !source.trimEnd().endsWith(buildIdLine(content.subarray(0, eol).toString()))) return undefined;
  return content.subarray(eol + 1);
};

export type CacheUse = 'used' | 'rejected' | 'none';

export const compileBundle = (bundleFile: string): { readonly script: Script; readonly cache: CacheUse } => {
  const source = readFileSync(bundleFile, 'utf8');
  const cachedData = cachedDataFor(source, cacheFileOf(bundleFile));
  const script = new Script(wrapBundle(source), { filename: bundleFile, ...(cachedData === undefined ? {} : { cachedData }) });
  return { script, cache: cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'used' };
};

type Wrapped = (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;

/** Runs the bundle as if node had loaded it, with the launcher's require (externals resolve from the same directory). */
export const runBundle = (bundleFile: string, require: NodeJS.Require, module: NodeJS.Module): void => {
  const run = compileBundle(bundleFile).script.runInThisContext() as Wrapped;
  run(module.exports, require, module, bundleFile, dirname(bundleFile));
};
