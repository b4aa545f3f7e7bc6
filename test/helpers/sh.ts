/** Test-only shell helpers: tests may use ip/nft to look at what the code did. */
import { execFileSync, spawnSync } from 'node:child_process';

/** Runs a command, returns stdout; throws with stderr on a non-zero exit. */
export const sh = (cmd: string, ...args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Runs a command, returns its exit status and output without throwing. */
export const tryRun = (cmd: string, ...args: string[]): { status: number; stdout: string; stderr: string } => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

/** Runs a command inside a named netns. */
export const inNetns = (ns: string, cmd: string, ...args: string[]): string => sh('ip', 'netns', 'exec', ns, cmd, ...args);

/** True when a single ping from ns to addr gets an answer within ~1 s. */
export const pings = (ns: string, addr: string): boolean =>
  tryRun('ip', 'netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', addr).status === 0;

/**
 * True when a ping answers within a few tries: right after a path is programmed, the first
 * packets may wait on neighbour resolution (on a loaded machine, past ping's one-second wait).
 */
export const pingsWithin = (ns: string, addr: string, tries = 5): boolean => {
  for (let i = 0; i < tries; i++) if (pings(ns, addr)) return true;
  return false;
};
