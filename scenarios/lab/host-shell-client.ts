/**
 * The lab's side of host-shell.ts: one request at a time over the child's stdin/stdout (the child
 * is `ip netns exec NS node host-shell.js` in the netns lab, `ssh HOST sudo node …` on the VMs).
 */
import { createInterface } from 'node:readline';
import type { CommandResult } from './backend.js';
import type { Proc } from './proc.js';

export class HostShell {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly waiting: Array<(line: string) => void> = [];
  private exited = false;

  constructor(private readonly proc: Proc) {
    const stdout = proc.child.stdout;
    if (!stdout) throw new Error('host shell needs a stdout pipe');
    createInterface({ input: stdout }).on('line', (line) => this.waiting.shift()?.(line));
    void proc.exited.then(() => {
      this.exited = true;
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ code: 70, out: '', err: 'host shell exited' }));
    });
  }

  /** `tnet ARGV` through the CLI in the shell's process. */
  run(argv: readonly string[]): Promise<CommandResult> {
    return this.request({ argv });
  }

  /** Any command, waited for; STDIN is written to it. */
  exec(argv: readonly string[], stdin?: string): Promise<CommandResult> {
    return this.request(stdin === undefined ? { exec: argv } : { exec: argv, stdin });
  }

  /** A long-running command, detached, its output in LOG; resolves to its PID. */
  async start(argv: readonly string[], log: string): Promise<number> {
    const r = await this.request({ start: argv, log });
    const pid = Number(r.out);
    if (r.code !== 0 || !Number.isInteger(pid) || pid <= 0) throw new Error(`cannot start ${argv.join(' ')}: ${r.err.trim()}`);
    return pid;
  }

  private request(body: object): Promise<CommandResult> {
    const next = this.tail.then(
      () =>
        new Promise<CommandResult>((resolve) => {
          if (this.exited) return resolve({ code: 70, out: '', err: 'host shell exited' });
          this.waiting.push((line) => resolve(JSON.parse(line) as CommandResult));
          this.proc.child.stdin?.write(`${JSON.stringify(body)}\n`);
        }),
    );
    this.tail = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    this.proc.child.stdin?.end();
    await this.proc.stop('SIGTERM', 3_000);
  }
}
