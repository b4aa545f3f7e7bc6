import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TnetError } from '../../errors.js';
import { applySpec, type ApplyReport } from '../../service/apply.js';
import type { Argv } from 'yargs';
import { optionalString, type Args } from '../args.js';
import { printJson, type CliCommand, type CommandEnv } from '../command.js';

const readSpec = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new TnetError('invalidInput', `cannot read spec file ${path}: ${e instanceof Error ? e.message : String(e)}`, { target: path });
  }
};

const print = (env: CommandEnv, report: ApplyReport, dryRun: boolean): void => {
  if (env.json) return printJson(env, { dryRun, ...report });
  const lines = [...report.changes, ...report.repairs.map((r) => `~ repair: ${r}`), ...report.notes.map((n) => `! ${n}`)];
  const total = report.changes.length + report.repairs.length;
  if (total === 0) lines.push('No changes. The host matches the spec.');
  else lines.push(dryRun ? `Plan: ${report.changes.length} change(s), ${report.repairs.length} repair(s).` : `Applied: ${report.changes.length} change(s), ${report.repairs.length} repair(s).`);
  env.io.out(lines.join('\n'));
};

const builder = (y: Argv): Argv =>
  y
    .option('file', { alias: 'f', type: 'string', demandOption: true, describe: 'Spec file (YAML or JSON)' })
    .option('adopt', { type: 'boolean', default: false, describe: 'Let the file manage networks it names that were made otherwise (tnet create, another file)' });

const run = (dryRun: boolean) => async (args: Args, env: CommandEnv): Promise<number> => {
  const path = resolve(String(optionalString(args, 'file')));
  // The YAML parser is the heaviest module of the CLI: only apply and diff load it.
  const { parseSpecFile } = await import('../../model/spec-file.js');
  const spec = parseSpecFile(readSpec(path), path);
  const { ctx } = await env.app();
  print(env, await applySpec(ctx, spec, path, { dryRun, adopt: args['adopt'] === true }), dryRun);
  return 0;
};

export const applyCommand: CliCommand = {
  command: 'apply',
  describe: 'Converge networks and endpoints to a spec file (prints the plan, then applies it)',
  builder: (y) => builder(y).option('dry-run', { type: 'boolean', default: false, describe: 'Only print the plan' }),
  run: (args, env) => run(args['dry-run'] === true)(args, env),
};

export const diffCommand: CliCommand = {
  command: 'diff',
  describe: 'Print what apply would change, without changing anything',
  builder,
  run: run(true),
};
