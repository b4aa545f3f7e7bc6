/**
 * Files under /etc/netns/NAME, which `ip netns exec NAME` bind-mounts over their /etc namesakes:
 * how a named namespace gets a resolv.conf of its own. Writes replace the file atomically (temp,
 * fsync, rename), so a crash leaves the old or the new file, never a torn one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TnetError } from '../errors.js';
import { kernelError } from './errno.js';

export const NETNS_ETC_DIR = '/etc/netns';

export interface NetnsEtcFiles {
  /** The file's text, or undefined when there is none. */
  read(netns: string, file: string): string | undefined;
  write(netns: string, file: string, text: string): void;
  /** Accepts a file that is already gone; the namespace's directory goes too once empty. */
  remove(netns: string, file: string): void;
}

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

const safeName = (s: string, what: string): string => {
  if (s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\0')) {
    throw new TnetError('invalidInput', `${what} ${JSON.stringify(s)} is not a plain file name`, { target: s });
  }
  return s;
};

export const netnsEtcFiles = (dir = NETNS_ETC_DIR, beforeChange: (what: string) => void = () => undefined): NetnsEtcFiles => {
  const pathOf = (netns: string, file: string): string => join(dir, safeName(netns, 'namespace name'), safeName(file, 'file name'));
  return {
    read: (netns, file) => {
      try {
        return readFileSync(pathOf(netns, file), 'utf8');
      } catch (e) {
        if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return undefined;
        throw kernelError(e, 'read', pathOf(netns, file));
      }
    },
    write: (netns, file, text) => {
      const path = pathOf(netns, file);
      beforeChange(`write ${path}`);
      const temp = `${path}.tnet-tmp`;
      try {
        mkdirSync(join(dir, netns), { recursive: true, mode: 0o755 });
        const fd = openSync(temp, 'w', 0o644);
        try {
          writeSync(fd, text);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(temp, path);
      } catch (e) {
        throw kernelError(e, 'write', path);
      }
    },
    remove: (netns, file) => {
      const path = pathOf(netns, file);
      beforeChange(`remove ${path}`);
      try {
        unlinkSync(path);
      } catch (e) {
        if (code(e) !== 'ENOENT') throw kernelError(e, 'remove', path);
      }
      try {
        rmdirSync(join(dir, netns));
      } catch {
        // Not empty (other files the user put there) or already gone: either way, not ours to take.
      }
    },
  };
};
