/**
 * The plugin's process edge: stdin and env in, stdout and exit code out. Kept free of top-level
 * await so the same module runs as ESM (bin/tnet-cni.ts) and inside the CommonJS bundle
 * (bin/build.ts) that cuts the plugin's cold start.
 */
import { readFileSync } from 'node:fs';
import { runCni } from '../lib/cni/run.js';

const readStdin = (): string => {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return ''; // no stdin at all (closed): the protocol layer reports an empty config
  }
};

export const main = async (): Promise<void> => {
  const outcome = await runCni(process.env, readStdin());
  if (outcome.stdout !== '') process.stdout.write(`${outcome.stdout}\n`);
  process.exitCode = outcome.exitCode;
};
