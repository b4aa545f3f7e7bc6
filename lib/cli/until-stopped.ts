/** Foreground services (`tnet agent`, `tnet cni serve`) run until SIGTERM or SIGINT. */
export async function runUntilStopped<T>(
  service: (signal: AbortSignal) => Promise<T>,
  onStop: (signalName: NodeJS.Signals) => void = () => undefined,
): Promise<T> {
  const stop = new AbortController();
  const handlers = (['SIGTERM', 'SIGINT'] as const).map((name) => {
    const handler = (): void => {
      onStop(name);
      stop.abort();
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  try {
    return await service(stop.signal);
  } finally {
    for (const [name, handler] of handlers) process.off(name, handler);
  }
}
