/**
 * Numbered step points, for the crash tests: every change a process makes to the kernel (each
 * netlink request, nft transaction, sysctl write) or to the store (each commit) is a step, counted
 * from 1. `TNET_TEST_KILL_AT=N` SIGKILLs the process just before step N, that is with exactly N-1
 * steps done; `TNET_TEST_STEP_LOG=FILE` appends one line per step, so a test learns how many an
 * operation takes and kills it at each in turn. Unset, both cost nothing.
 */
import { appendFileSync } from 'node:fs';

export interface StepPoints {
  readonly killAt?: number;
  readonly logFile?: string;
}

/** The `stepPoints` field of AppOptions, present only when the environment asks for it. */
export const withStepPoints = (env: Readonly<Record<string, string | undefined>>): { stepPoints?: StepPoints } => {
  const killAt = Number(env['TNET_TEST_KILL_AT']);
  const logFile = env['TNET_TEST_STEP_LOG'];
  const stepPoints = {
    ...(Number.isInteger(killAt) && killAt > 0 ? { killAt } : {}),
    ...(logFile === undefined || logFile === '' ? {} : { logFile }),
  };
  return Object.keys(stepPoints).length === 0 ? {} : { stepPoints };
};

/** The hook the kernel layer and the store call before each step. */
export const stepCounter = (points: StepPoints): ((what: string) => void) => {
  let step = 0;
  return (what) => {
    step += 1;
    if (points.logFile !== undefined) appendFileSync(points.logFile, `${step} ${what}\n`);
    if (step === points.killAt) process.kill(process.pid, 'SIGKILL');
  };
};
