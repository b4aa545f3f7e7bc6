/**
 * Kill an operation at each of its steps in turn, then retry it the natural way and check that
 * store and kernel agree. A step is every change the process makes to the kernel or the store
 * (lib/step-points.ts): one counting run learns how many an operation takes; then, for every N,
 * a fresh lab host is brought to the starting state, the operation runs as a real process with
 * TNET_TEST_KILL_AT=N (SIGKILLed with N-1 steps done), the retry runs, and assertConverged judges.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertConverged } from './convergence.js';
import { createLabHost, type LabHost } from './lab-host.js';
import { transpileTree } from './transpile.js';

/** A tnet process: a CLI command, or one CNI plugin call. */
export type Call =
  | { readonly cli: readonly string[] }
  | { readonly cni: 'ADD' | 'DEL'; readonly containerId: string; readonly netns?: string; readonly conf: Record<string, unknown> };

export interface CrashCase {
  readonly name: string;
  /** Brings a fresh lab host to the state the operation starts from (run: a tnet process that must succeed). */
  readonly setup: (lab: LabHost, run: (call: Call) => Promise<void>) => Promise<void>;
  readonly op: (lab: LabHost) => Call;
  /** What a user or a runtime does after the failure; the same call when absent. */
  readonly retry?: (lab: LabHost) => readonly Call[];
  /** Commands that follow the operation whether it was killed or not (a user moving on). */
  readonly next?: (lab: LabHost) => readonly Call[];
  /**
   * The first kill point to try (default 1). Killed before step 1 an operation has asked for
   * nothing yet, so a case whose next command relies on the request (not the retry) starts at 2.
   */
  readonly fromStep?: number;
  /** What the operation must have achieved once retried, beyond store/kernel agreement. */
  readonly after: (lab: LabHost) => Promise<void>;
}

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

export interface CrashReport {
  readonly steps: readonly string[];
  /** How many kill points were tried (all steps from the case's first). */
  readonly tried: number;
  /** One line per kill point that did not converge; empty when all did. */
  readonly failures: readonly string[];
}

export interface Processes {
  run(lab: LabHost, call: Call, env?: Record<string, string>): Promise<Outcome>;
  remove(): void;
}

/** The CLI and the plugin as processes, from a transpiled copy of the sources. */
export const tnetProcesses = (): Processes => {
  const tree = transpileTree('crash', ['lib', 'bin']);
  const run = (lab: LabHost, call: Call, env: Record<string, string> = {}): Promise<Outcome> => {
    const base = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TNET_CONFIG: '', ...(lab.store === undefined ? {} : { TNET_STORE: lab.store }), ...env };
    const [args, childEnv, stdin] =
      'cli' in call
        ? [[join(tree.dir, 'bin/tnet.js'), ...call.cli, '--host-netns', lab.ns, '--state-dir', lab.stateDir], base, '']
        : [
            [join(tree.dir, 'bin/tnet-cni.js')],
            { ...base, CNI_COMMAND: call.cni, CNI_CONTAINERID: call.containerId, CNI_IFNAME: 'eth0', CNI_NETNS: call.netns ?? '', CNI_PATH: '/usr/lib/cni' },
            JSON.stringify({ ...call.conf, stateDir: lab.stateDir, hostNetns: `/run/netns/${lab.ns}`, ...(lab.store === undefined ? {} : { store: lab.store }) }),
          ];
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, output }));
      child.stdin.end(stdin);
    });
  };
  return { run, remove: tree.remove };
};

const describeCall = (c: Call): string => ('cli' in c ? `tnet ${c.cli.join(' ')}` : `CNI ${c.cni} ${c.containerId}`);

const mustSucceed = async (p: Processes, lab: LabHost, call: Call): Promise<void> => {
  const r = await p.run(lab, call);
  if (r.code !== 0) throw new Error(`${describeCall(call)} exited ${r.code ?? r.signal}: ${r.output.trim()}`);
};

/** Where a lab host keeps its state: its embedded store, or a prefix of its own in a shared etcd. */
export type StoreFor = (labPrefix: string) => { readonly store?: string };

/** Runs the case at every kill point; labPrefix + the point number names each fresh lab host. */
export const killAtEveryStep = async (p: Processes, c: CrashCase, labPrefix: string, storeFor: StoreFor = () => ({})): Promise<CrashReport> => {
  const steps = await countSteps(p, c, `${labPrefix}0`, storeFor);
  const failures: string[] = [];
  for (let n = c.fromStep ?? 1; n <= steps.length; n++) {
    const lab = createLabHost(`${labPrefix}${n}`, storeFor(`${labPrefix}${n}`));
    try {
      await c.setup(lab, (call) => mustSucceed(p, lab, call));
      const op = c.op(lab);
      const killed = await p.run(lab, op, { TNET_TEST_KILL_AT: String(n) });
      if (killed.signal !== 'SIGKILL') throw new Error(`not killed at step ${n} (exit ${killed.code}): ${killed.output.trim()}`);
      for (const call of [...(c.retry?.(lab) ?? [op]), ...(c.next?.(lab) ?? [])]) await mustSucceed(p, lab, call);
      await assertConverged(lab);
      await c.after(lab);
    } catch (e) {
      failures.push(`killed before step ${n} (${steps[n - 1]}): ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      lab.destroy();
    }
  }
  return { steps, tried: steps.length - (c.fromStep ?? 1) + 1, failures };
};

/** The operation once, whole, counting its steps; it must succeed and converge on its own. */
const countSteps = async (p: Processes, c: CrashCase, prefix: string, storeFor: StoreFor): Promise<string[]> => {
  const lab = createLabHost(prefix, storeFor(prefix));
  const log = join(lab.stateDir, 'steps.log');
  try {
    await c.setup(lab, (call) => mustSucceed(p, lab, call));
    const r = await p.run(lab, c.op(lab), { TNET_TEST_STEP_LOG: log });
    if (r.code !== 0) throw new Error(`${c.name} fails without a kill: ${r.output.trim()}`);
    for (const call of c.next?.(lab) ?? []) await mustSucceed(p, lab, call);
    await assertConverged(lab);
    await c.after(lab);
    return readFileSync(log, 'utf8').trim().split('\n').map((l) => l.replace(/^\d+ /, ''));
  } finally {
    lab.destroy();
  }
};
