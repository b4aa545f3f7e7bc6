/**
 * `tnet doctor`: checks this host for what breaks container networking (lib/doctor/) and says
 * what to do, one line per finding; exits 1 when it found anything. It works when the store does
 * not answer (that is then one of its findings).
 */
import { resolve } from 'node:path';
import { diagnose } from '../../doctor/checks.js';
import { gatherFacts } from '../../doctor/facts.js';
import { createKernel } from '../../kernel/index.js';
import { optionalString } from '../args.js';
import { printJson, type CliCommand } from '../command.js';

export const DOCTOR_PROBLEMS_EXIT = 1;

export const doctorCommand: CliCommand = {
  command: 'doctor',
  describe: 'Check this host for what breaks container networking and say what to do (exit 1 when something is found)',
  builder: (y) => y.example('$0 doctor', 'one line per finding').example('$0 doctor --json', '{"findings": [{check, message, fix}]}'),
  run: async (args, env) => {
    const stateDir = resolve(String(args['state-dir']));
    let findings;
    try {
      const { ctx } = await env.app();
      findings = diagnose(await gatherFacts({ kernel: ctx.kernel, stateDir, ctx }));
    } catch (e) {
      // The store did not open (etcd unreachable): look at the kernel all the same.
      const kernel = createKernel(optionalString(args, 'host-netns'));
      try {
        findings = diagnose(await gatherFacts({ kernel, stateDir, ctx: { error: e instanceof Error ? e.message : String(e) } }));
      } finally {
        kernel.close();
      }
    }
    if (env.json) printJson(env, { findings });
    else env.io.out(findings.length === 0 ? 'no problems found' : findings.map((f) => `${f.check}: ${f.message}; fix: ${f.fix}`).join('\n'));
    return findings.length === 0 ? 0 : DOCTOR_PROBLEMS_EXIT;
  },
};
