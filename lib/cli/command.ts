/** The shape of one CLI command: yargs metadata plus a run function that returns an exit code. */
import type { Argv } from 'yargs';
import type { App } from '../app.js';
import type { Args } from './args.js';
import type { CliIo } from './io.js';

export interface CommandEnv {
  readonly io: CliIo;
  readonly json: boolean;
  /** Opens the store and kernel on first use (so `--help` never touches either). */
  readonly app: () => Promise<App>;
}

export interface CliCommand {
  readonly command: string;
  readonly aliases?: readonly string[];
  readonly describe: string;
  readonly builder: (y: Argv) => Argv;
  run(args: Args, env: CommandEnv): Promise<number>;
}

export const printJson = (env: CommandEnv, value: unknown): void => env.io.out(JSON.stringify(value, null, 2));
