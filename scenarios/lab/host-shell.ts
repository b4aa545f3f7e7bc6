/**
 * Runs a lab host's commands, one JSON request per stdin line and one JSON answer
 * ({"code", "out", "err"}) per stdout line, in the namespace or on the machine it was started in:
 *   {"argv": [...]}                       tnet ARGS through the real CLI (runCli: store and kernel included)
 *   {"exec": [...], "stdin"?: TEXT}        any other command (ip, ping, bridge…), waited for
 *   {"start": [...], "log": PATH}         a long-running command, detached; answers its PID in "out"
 * A long-lived process saves the node start of every tnet command (~0.5 s here, seconds on an
 * emulated VM) and, on the Vagrant machines, an ssh connection per step: the netns lab starts it
 * with `ip netns exec`, the vagrant backend once per machine over ssh.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runCli } from '../../lib/cli/main.js';
import { openStore, parseStoreUrl, type Store } from '../../lib/store/index.js';
import type { CommandResult } from './backend.js';

interface Request {
  readonly argv?: string[];
  readonly exec?: string[];
  readonly stdin?: string;
  readonly start?: string[];
  readonly log?: string;
}

const EXEC_TIMEOUT_MS = 60_000;

/**
 * A shared store stays connected from one command to the next: opening an etcd client costs
 * 1-3 s on an emulated VM, and every step of a scenario is a command. The embedded store is
 * opened anew each time (cheap, and a reset may remove its directory).
 */
const shared = new Map<string, Promise<Store>>();
const openStoreOnce: typeof openStore = (url, stateDir) => {
  if (url === undefined || parseStoreUrl(url).kind !== 'etcd') return openStore(url, stateDir);
  let store = shared.get(url);
  if (store === undefined) {
    store = openStore(url, stateDir);
    shared.set(url, store);
    store.catch(() => shared.delete(url)); // an etcd that did not answer is tried again next time
  }
  return store.then((s) => ({ ...s, close: async () => undefined }));
};

/** When the shell's input ends: the shared connections close, so the process can exit. */
const closeShared = async (): Promise<void> => {
  for (const store of shared.values()) await store.then((s) => s.close(), () => undefined);
};

const tnet = async (argv: readonly string[]): Promise<CommandResult> => {
  let out = '';
  let err = '';
  const io = { out: (t: string) => void (out += t.endsWith('\n') ? t : `${t}\n`), err: (t: string) => void (err += t.endsWith('\n') ? t : `${t}\n`) };
  const code = await runCli([...argv], io, process.env, { openStore: openStoreOnce });
  return { code, out, err };
};

const exec = ([cmd, ...args]: readonly string[], stdin?: string): Promise<CommandResult> =>
  new Promise((resolve) => {
    const child = execFile(cmd ?? 'false', args, { timeout: EXEC_TIMEOUT_MS, encoding: 'utf8', maxBuffer: 64 << 20 }, (error, out, err) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, out, err: error !== null && typeof error.code !== 'number' ? `${err}${error.message}\n` : err });
    });
    // A command that exits without reading its stdin (most do) must not take the shell with it.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(stdin ?? '');
  });

/** Detached, every stdio on the log, so it outlives this shell; the PID is its own (no wrapper). */
const start = ([cmd, ...args]: readonly string[], log: string): CommandResult => {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(cmd ?? 'false', args, { detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => undefined);
    child.unref();
    return child.pid === undefined ? { code: 127, out: '', err: `cannot start ${cmd ?? ''}\n` } : { code: 0, out: String(child.pid), err: '' };
  } finally {
    closeSync(fd);
  }
};

const answer = async (r: Request): Promise<CommandResult> => {
  if (r.argv) return tnet(r.argv);
  if (r.exec) return exec(r.exec, r.stdin);
  if (r.start && r.log) return start(r.start, r.log);
  return { code: 2, out: '', err: 'host-shell: expected {"argv"}, {"exec"} or {"start", "log"}\n' };
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  let result: CommandResult;
  try {
    result = await answer(JSON.parse(line) as Request);
  } catch (e) {
    result = { code: 70, out: '', err: `host-shell: ${e instanceof Error ? e.message : String(e)}\n` };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
await closeShared();
