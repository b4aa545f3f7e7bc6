/**
 * The CLI's process edge. Kept free of top-level await so the same module runs as ESM
 * (bin/tnet.ts) and inside the CommonJS bundle behind dist/bin/tnet.cjs (bin/build.ts).
 */
import { runCli } from '../lib/cli/main.js';

export const main = async (): Promise<void> => {
  process.exitCode = await runCli(process.argv.slice(2));
  // The etcd client can keep retry timers alive after close() when the cluster is unreachable
  // (seen with `tnet agent` on SIGTERM); the command is done, so do not wait for them. Unref'd:
  // a command whose event loop drains normally exits at once.
  setTimeout(() => process.exit(), 1_000).unref();
};
