/**
 * The framing between the installed plugin wrapper (a /bin/sh script) and `tnet cni serve`.
 * It is shaped by what a shell can produce and parse with `env -0`, `printf` and `cat`:
 *   request: the wrapper's environment as `KEY=VALUE\0` entries, one empty entry, then the
 *            network config exactly as the runtime gave it on stdin (until EOF);
 *   reply:   the plugin's exit code, a newline, then what the plugin prints on stdout.
 */
import type { CniOutcome } from './run.js';

/** Where `tnet cni serve` listens and the installed wrapper looks, unless told otherwise. */
export const DEFAULT_CNI_SOCKET = '/run/tnet/cni.sock';

export interface CniCall {
  readonly env: Readonly<Record<string, string>>;
  readonly stdin: string;
}

/** Only these mean anything to the plugin; the rest of the runtime's environment is dropped. */
const PLUGIN_VARIABLE = /^(CNI_|TNET_)/;

/** undefined when the environment never ends: the wrapper died before it sent the config. */
export const decodeCall = (bytes: Buffer): CniCall | undefined => {
  const env: Record<string, string> = {};
  for (let at = 0; ; ) {
    const end = bytes.indexOf(0, at);
    if (end < 0) return undefined;
    if (end === at) return { env, stdin: bytes.toString('utf8', end + 1) };
    const entry = bytes.toString('utf8', at, end);
    const eq = entry.indexOf('=');
    if (eq > 0 && PLUGIN_VARIABLE.test(entry)) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    at = end + 1;
  }
};

export const encodeReply = (outcome: CniOutcome): string => `${outcome.exitCode}\n${outcome.stdout}`;
