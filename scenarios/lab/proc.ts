/** Child processes of the lab: started with a log file, stopped by their PID only. */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface Proc {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const startProc = (argv: readonly string[], opts: { env?: NodeJS.ProcessEnv; log: string; stdin?: 'pipe' | 'ignore'; stdout?: 'pipe' | 'log' }): Proc => {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('empty command');
  const fd = openSync(opts.log, 'a');
  const child = spawn(cmd, args, {
    env: opts.env ?? process.env,
    stdio: [opts.stdin ?? 'ignore', opts.stdout === 'pipe' ? 'pipe' : fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  const pid = child.pid;
  let done = false;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => ((done = true), resolve(code))));
  child.on('error', () => undefined);
  return {
    pid,
    child,
    exited,
    stop: async (signal = 'SIGTERM', graceMs = 5_000) => {
      if (done) return;
      // ESRCH: it exited and was reaped before its 'exit' event reached us; that is stopped too.
      const kill = (s: NodeJS.Signals): boolean => {
        try {
          process.kill(pid, s);
          return true;
        } catch {
          return false;
        }
      };
      if (!kill(signal)) return;
      const ended = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!ended && !done && kill('SIGKILL')) await exited;
    },
  };
};
