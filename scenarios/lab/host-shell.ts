/**
 * Runs tnet commands for one lab host, inside that host's namespace (started with `ip netns exec`):
 * one JSON request per stdin line ({"argv": [...]}) and one JSON answer per stdout line
 * ({"code", "out", "err"}). A long-lived process saves the ~0.5 s of a node start per command,
 * which is what lets the scenarios and the convergence bench run many steps quickly; the tnet
 * code path is the real CLI (runCli), store and kernel included.
 */
import { createInterface } from 'node:readline';
import { runCli } from '../../lib/cli/main.js';

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  let out = '';
  let err = '';
  let code: number;
  try {
    const { argv } = JSON.parse(line) as { argv: string[] };
    code = await runCli(argv, { out: (t) => void (out += t.endsWith('\n') ? t : `${t}\n`), err: (t) => void (err += t.endsWith('\n') ? t : `${t}\n`) });
  } catch (e) {
    code = 70;
    err += `host-shell: ${e instanceof Error ? e.message : String(e)}\n`;
  }
  process.stdout.write(`${JSON.stringify({ code, out, err })}\n`);
}
