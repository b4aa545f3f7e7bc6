#!/usr/bin/env node
/** The tnet CLI as ES modules; `npm run build` also writes dist/bin/tnet.cjs, which starts faster. */
import { main } from './cli-main.js';

await main();
