/** Where a command writes; injected so tests can run the CLI in-process. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** A foreground service's log (`tnet agent`, `tnet cni serve`): timestamped lines on stderr. */
export const serviceLog = (io: CliIo) => (line: string): void => io.err(`${new Date().toISOString()} ${line}`);

/** Fixed-width columns, like `docker network ls`. */
export const table = (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
};
