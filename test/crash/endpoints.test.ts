/** Kill at every step, retry, converge: connect, disconnect. The report names each kill point that did not converge. */
import { afterAll, describe, expect, it } from 'vitest';
import { killAtEveryStep, tnetProcesses } from '../helpers/crash.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';
import { CASES } from './cases.js';

const processes = tnetProcesses();
afterAll(() => processes.remove());

describe('a kill -9 at any step, then the plain retry', () => {
  for (const key of ['connect','disconnect'] as const) {
    const c = CASES[key]!;
    it(`${c.name}: converges after a kill at each of its steps`, async () => {
      const report = await killAtEveryStep(processes, c, `${TT}k${key.toLowerCase().slice(0, 5)}`);
      console.log(`${c.name}: ${report.steps.length} kill points, ${report.steps.length - report.failures.length} converged`);
      expect(report.failures).toEqual([]);
      expect(report.steps.length).toBeGreaterThanOrEqual(2);
    }, 600_000);
  }
});
