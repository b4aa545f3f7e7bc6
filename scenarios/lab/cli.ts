/**
 * Runs scenario files by hand:
 *   node dist/scenarios/lab/cli.js [--backend netns|vagrant] [--check-timeout SECONDS] scenarios/*.scn
 * The netns backend builds the lab on this machine (root needed); the vagrant backend runs the
 * steps on the machines of the Vagrantfile (`vagrant up` first; bin/vms.sh does it all).
 * Prints PASS/FAIL per scenario with its time, then 'scenarios: N passed, N failed'.
 */
import { readFileSync } from 'node:fs';
import type { Backend } from './backend.js';
import { repoRoot } from './build.js';
import { createNetnsLab } from './netns-lab.js';
import { runScenario } from './runner.js';
import { parseScenario } from './scenario.js';
import { createVagrantBackend } from './vagrant.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args.splice(i, 2)[1];
};
const kind = option('--backend') ?? 'netns';
const checkTimeout = option('--check-timeout');
if (kind !== 'netns' && kind !== 'vagrant') throw new Error(`--backend ${kind}: expected netns or vagrant`);
const files = args;
const backend: Backend = kind === 'vagrant' ? createVagrantBackend({ cwd: repoRoot() }) : createNetnsLab({ prefix: 'tnlab' });
// Interrupted: the lab's processes and namespaces (or the ssh shells) go before this process does.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void backend.close().finally(() => process.exit(130)));
}
let passed = 0;
let failed = 0;
try {
  for (const file of files) {
    const s = parseScenario(readFileSync(file, 'utf8'), file);
    process.stderr.write(`== ${s.title} (${file})\n`);
    const t0 = Date.now();
    const r = await runScenario(backend, s, file, {
      log: (l) => process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} ${l}\n`),
      ...(checkTimeout === undefined ? {} : { checkTimeoutMs: Number(checkTimeout) * 1000 }),
    });
    if (r.skipped) process.stdout.write(`SKIP ${s.title}: ${r.skipped}\n`);
    else if (r.ok) {
      passed++;
      process.stdout.write(`PASS ${file}: ${s.title} (${r.steps} steps, ${(r.ms / 1000).toFixed(1)} s)\n`);
    } else {
      failed++;
      process.stdout.write(`FAIL ${file}: ${s.title} (${(r.ms / 1000).toFixed(1)} s)\n  ${r.failure}\n`);
    }
  }
} finally {
  await backend.close();
}
process.stdout.write(`scenarios: ${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
