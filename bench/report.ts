/** Figures and tables shared by the benchmarks. */

/** The p-quantile (0..1) of a sample; NaN when empty. */
export const quantile = (xs: readonly number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

/** Right-aligned columns, header first. */
export const printTable = (header: readonly string[], rows: ReadonlyArray<readonly string[]>): void => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padStart(widths[i] ?? 0)).join('  '));
};

/** Runs a benchmark's main, reports a failure as a non-zero exit, and always cleans up. */
export const runBench = (main: () => Promise<void>, cleanup: () => void): void => {
  // Interrupted, a bench still removes the namespaces and processes it made.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  main()
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    })
    .finally(cleanup);
};
