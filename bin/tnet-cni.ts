#!/usr/bin/env node
/**
 * The tnet CNI plugin: runtimes exec it with CNI_* in the environment and the network config on
 * stdin. Deliberately tiny and without yargs: see lib/cni/run.ts for what is loaded when.
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

const outcome = await runCni(process.env, readStdin());
if (outcome.stdout !== '') process.stdout.write(`${outcome.stdout}\n`);
process.exitCode = outcome.exitCode;
