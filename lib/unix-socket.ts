/**
 * Unix sockets the daemon's roles serve on (the CNI socket, Docker's plugin socket): claiming the
 * path (a socket left by a server that died is removed, a live one or anything else is not ours)
 * and listening so that only root may connect: a call attaches links in any namespace it names.
 */
import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, type Server } from 'node:net';
import { dirname } from 'node:path';
import { TnetError } from './errors.js';

/** Whether something answers on the socket: a live server must not be unlinked from under it. */
const isListening = (path: string): Promise<boolean> =>
  new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });

/** flag: the option that set the path, for the messages. */
export const claimSocketPath = async (path: string, flag: string): Promise<void> => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new TnetError('invalidInput', `${flag} ${path} exists and is not a socket; choose another path`);
  if (await isListening(path)) throw new TnetError('conflict', `another tnet daemon is already listening on ${path} (${flag})`);
  unlinkSync(path);
};

/** On a path we create (root only), or on a socket systemd passed. */
export const listenOn = (server: Server, on: { readonly path: string } | { readonly fd: number }): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    // The bind inside listen() is synchronous, so the mask covers exactly the socket's creation.
    const umask = 'path' in on ? process.umask(0o177) : undefined;
    try {
      server.listen(on, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      if (umask !== undefined) process.umask(umask);
    }
  });
