/**
 * The compiled entries of this tnet (the plugin, the CLI) that `cni install` and `daemon install`
 * write into wrappers and units, and how those files are written.
 */
import { chmodSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TnetError } from '../../errors.js';

/**
 * Where a compiled entry may sit, seen from this code, fastest first: next to it when this code
 * runs from the CLI bundle (dist/bin/tnet.bundle.cjs), or in dist/bin seen from
 * dist/lib/cli/commands when it runs as ES modules (the bundled launcher, else the ES entry).
 */
const candidatesFor = (entry: CompiledEntry): string[] => [`./${entry}.cjs`, `../../../bin/${entry}.cjs`, `../../../bin/${entry}.js`];

export type CompiledEntry = 'tnet' | 'tnet-cni';

/** The compiled entry of this tnet, for code at `here` (a file URL); undefined if there is none. */
export const findCompiled = (entry: CompiledEntry, here: string, exists: (path: string) => boolean = existsSync): string | undefined =>
  candidatesFor(entry).map((c) => fileURLToPath(new URL(c, here))).find(exists);

export const requireCompiled = (entry: CompiledEntry, remedy: string): string => {
  const found = findCompiled(entry, import.meta.url);
  if (found === undefined) throw new TnetError('notFound', `install: no compiled ${entry} next to this tnet; ${remedy}`);
  return found;
};

/** Written aside and renamed: a runtime exec'ing the plugin meanwhile sees the old or the new one. */
export const writeReplacing = (target: string, text: string, mode: number): void => {
  const tmp = `${target}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  chmodSync(tmp, mode);
  renameSync(tmp, target);
};
