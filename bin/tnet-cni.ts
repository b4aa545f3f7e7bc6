#!/usr/bin/env node
/**
 * The tnet CNI plugin: runtimes exec it with CNI_* in the environment and the network config on
 * stdin. Deliberately tiny and without yargs: see lib/cni/run.ts for what is loaded when.
 * `npm run build` also writes dist/bin/tnet-cni.cjs, the same plugin bundled into one file and
 * run through V8's code cache, which starts faster; `tnet cni install` prefers it.
 */
import { main } from './cni-main.js';

await main();
