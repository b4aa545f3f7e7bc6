/** The lab's side of host-shell.ts: one request at a time over the child's stdin/stdout. */
import { createInterface } from 'node:readline';
import type { CommandResult } from './backend.js';
import type { Proc } from './proc.js';

export class HostShell {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly waiting: Array<(line: string) => void> = [];

  constructor(private readonly proc: Proc) {
    const stdout = proc.child.stdout;
    if (!stdout) throw new Error('host shell needs a stdout pipe');
    createInterface({ input: stdout }).on('line', (line) => this.waiting.shift()?.(line));
    void proc.exited.then(() => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ code: 70, out: '', err: 'host shell exited' }));
    });
  }

  run(argv: readonly string[]): Promise<CommandResult> {
    const next = this.tail.then(
      () =>
        new Promise<CommandResult>((resolve) => {
          this.waiting.push((line) => resolve(JSON.parse(line) as CommandResult));
          this.proc.child.stdin?.write(`${JSON.stringify({ argv })}\n`);
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
