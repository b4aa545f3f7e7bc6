/**
 * Runs in a child process (transpiled by child-build.ts) so tests can make real processes race:
 *   node child-worker.js <storeUrl> increment <key> <times>
 *   node child-worker.js <storeUrl> lock-append <lockName> <file> <id> <rounds>
 *   node child-worker.js <stateDir> hammer <key>     (a local store that writes a snapshot every
 *     few commits; prints each value it committed, until killed)
 */
import { appendFileSync, writeSync } from 'node:fs';
import { openStore } from '../../lib/store/index.js';
import { openLocalStore } from '../../lib/store/local.js';
import { increment } from './counter.js';

const [url = '', mode, a = '', b = '', c = '', d = ''] = process.argv.slice(2);
// Test addresses always name their store fully, so no default state dir is needed.
const store = mode === 'hammer' ? await openLocalStore(url, { compactAfterBytes: 1 }) : await openStore(url, '/nonexistent');
try {
  if (mode === 'hammer') {
    // Synchronous, so that a value is printed the moment its commit returned.
    for (;;) writeSync(1, `${await increment(store, a)}\n`);
  } else if (mode === 'increment') {
    for (let i = 0; i < Number(b); i++) await increment(store, a);
  } else if (mode === 'lock-append') {
    for (let i = 0; i < Number(d); i++) {
      await store.withLock(a, async () => {
        appendFileSync(b, `${c} start\n`);
        await new Promise((resolve) => setTimeout(resolve, 10));
        appendFileSync(b, `${c} end\n`);
      });
    }
  } else {
    throw new Error(`unknown mode ${String(mode)}`);
  }
} finally {
  await store.close();
}
