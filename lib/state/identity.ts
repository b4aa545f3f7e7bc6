/**
 * Which host this is: a small file in the state dir, not a store key, because with a shared store
 * every host reads the same keys. Written by `tnet host join` or by `apply` of a spec with `host:`.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TnetError } from '../errors.js';
import type { HostIdentity } from '../model/host.js';

export interface IdentityStore {
  get(): HostIdentity | undefined;
  set(identity: HostIdentity): void;
  clear(): void;
}

const FILE = 'host.json';

export const fileIdentity = (stateDir: string): IdentityStore => {
  const path = join(stateDir, FILE);
  return {
    get: () => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
      try {
        const v = JSON.parse(text) as Partial<HostIdentity>;
        if (typeof v.name !== 'string' || typeof v.vtep !== 'string') throw new Error('expected {"name": ..., "vtep": ...}');
        return { name: v.name, vtep: v.vtep };
      } catch (e) {
        throw new TnetError('invalidConfig', `${path}: ${(e as Error).message}`, { target: path });
      }
    },
    set: (identity) => {
      mkdirSync(stateDir, { recursive: true });
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(identity)}\n`);
      renameSync(tmp, path);
    },
    clear: () => rmSync(path, { force: true }),
  };
};

/** For contexts without a state dir (tests): identity held in memory. */
export const memoryIdentity = (initial?: HostIdentity): IdentityStore => {
  let current = initial;
  return { get: () => current, set: (i) => void (current = i), clear: () => void (current = undefined) };
};
