/**
 * Runs scenario files by hand: `node dist/scenarios/lab/cli.js [--backend netns|vagrant] scenarios/*.scn`.
 * The netns backend builds the lab on this machine (root needed); the vagrant backend runs each
 * step on the machines of the Vagrantfile through `vagrant ssh`.
 */
import { readFileSync } from 'node:fs';
import type { Backend } from './backend.js';
import { createNetnsLab } from './netns-lab.js';
import { runScenario } from './runner.js';
import { parseScenario } from './scenario.js';
import { createVagrantBackend } from './vagrant.js';

const args = process.argv.slice(2);
const i = args.indexOf('--backend');
const kind = i < 0 ? 'netns' : args.splice(i, 2)[1];
const files = args;
const backend: Backend = kind === 'vagrant' ? createVagrantBackend() : createNetnsLab({ prefix: 'tnlab' });
let failed = 0;
try {
  for (const file of files) {
    const s = parseScenario(readFileSync(file, 'utf8'), file);
    process.stderr.write(`== ${s.title} (${file})\n`);
    const r = await runScenario(backend, s, file, { log: (l) => process.stderr.write(`${l}\n`) });
    if (r.skipped) process.stdout.write(`SKIP ${s.title}: ${r.skipped}\n`);
    else if (r.ok) process.stdout.write(`PASS ${s.title} (${r.steps} steps, ${r.ms} ms)\n`);
    else {
      failed++;
      process.stdout.write(`FAIL ${s.title}\n  ${r.failure}\n`);
    }
  }
} finally {
  await backend.close();
}
process.exitCode = failed === 0 ? 0 : 1;
