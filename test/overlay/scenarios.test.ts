/**
 * Every scenario in scenarios/ on the local netns lab: 3 hosts, a 3-member etcd cluster, an agent
 * per host (or, for static peers, local stores). One lab serves all scenarios, in file order; it
 * is rebuilt only when a scenario needs another store mode.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetnsLab } from '../../scenarios/lab/netns-lab.js';
import { runScenario } from '../../scenarios/lab/runner.js';
import { parseScenario } from '../../scenarios/lab/scenario.js';
import { TEST_NETNS_PREFIX as TT } from '../helpers/netns.js';

const DIR = join(import.meta.dirname, '../../scenarios');
const files = readdirSync(DIR).filter((f) => f.endsWith('.scn')).sort();
const lab = createNetnsLab({ prefix: `${TT}ov${process.pid % 10000}` });

afterAll(async () => {
  await lab.close();
}, 60_000);

describe('overlay scenarios on the netns lab', () => {
  for (const f of files) {
    const file = join(DIR, f);
    const scenario = parseScenario(readFileSync(file, 'utf8'), file);
    const test = scenario.skip === undefined ? it : it.skip;
    test(`${f}: ${scenario.title}${scenario.skip ? ` (${scenario.skip})` : ''}`, async () => {
      const lines: string[] = [];
      const report = await runScenario(lab, scenario, file, { log: (l) => lines.push(l) });
      expect(report.failure, lines.join('\n')).toBeUndefined();
      expect(report.ok).toBe(true);
    }, 180_000);
  }
});
