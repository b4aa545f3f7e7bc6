/**
 * What `tnet cni install` and `tnet cni conflist` produce. Pure text and objects; the CLI writes.
 * The installed plugin is a tiny shell wrapper with absolute paths to node and to the compiled
 * plugin, so it works from any directory and under a runtime's minimal PATH.
 */
import type { Network } from '../model/types.js';
import { netconfFieldsOf } from './network.js';
import { PLUGIN_TYPE } from './netconf.js';
import type { CniVersion } from './versions.js';

/**
 * 1.0.0 by default: the libcni in Podman 4 and containerd 1.6 cannot decode 1.1.0 results.
 * `--cni-version 1.1.0` enables STATUS and GC for runtimes that have them.
 */
export const DEFAULT_CONFLIST_VERSION: CniVersion = '1.0.0';

/**
 * How long the wrapper waits for the server's reply: far beyond any call's own lock timeouts, so
 * a slow call is not started a second time by the fallback.
 */
const SERVER_REPLY_TIMEOUT_SECONDS = 600;

/** Quotes for a POSIX shell: 'it'\''s'. */
const shellQuote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * The wrapper first offers the call to `tnet cni serve` on `socket` (lib/cni/wire.ts), so a warm
 * process does the work and node does not start per call; with no server listening, or no socat
 * to reach it, it runs the plugin itself. The config is read once, as both paths need it.
 * argv: node (absolute), any node flags, then the compiled plugin (absolute).
 */
export const pluginWrapper = (argv: readonly string[], socket: string): string =>
  [
    '#!/bin/sh',
    '# tnet CNI plugin (written by `tnet cni install`); runtimes exec this with CNI_* set.',
    'conf=$(cat)',
    `sock=${shellQuote(socket)}`,
    'if [ -S "$sock" ] && command -v socat >/dev/null 2>&1; then',
    `  reply=$({ env -0; printf '\\0%s' "$conf"; } | socat -t ${SERVER_REPLY_TIMEOUT_SECONDS} - "UNIX-CONNECT:$sock" 2>/dev/null)`,
    '  code=${reply%%[!0-9]*}',
    '  if [ -n "$code" ]; then',
    '    out=${reply#"$code"}',
    '    out=${out#?}',
    "    [ -z \"$out\" ] || printf '%s\\n' \"$out\"",
    '    exit "$code"',
    '  fi',
    'fi',
    `exec ${argv.map(shellQuote).join(' ')} "$@" <<EOF`,
    '$conf',
    'EOF',
    '',
  ].join('\n');

export interface ConflistOptions {
  readonly cniVersion?: CniVersion;
  /** Only when not the default, so the plugin finds the same state as the CLI. */
  readonly stateDir?: string;
  readonly store?: string;
  readonly hostNetns?: string;
}

/** A conflist whose single plugin re-creates the network exactly as it is, should it be removed. */
export const conflistFor = (network: Network, opts: ConflistOptions = {}): Record<string, unknown> => ({
  cniVersion: opts.cniVersion ?? DEFAULT_CONFLIST_VERSION,
  name: network.name,
  plugins: [
    {
      type: PLUGIN_TYPE,
      ...netconfFieldsOf(network),
      ...(opts.stateDir === undefined ? {} : { stateDir: opts.stateDir }),
      ...(opts.store === undefined ? {} : { store: opts.store }),
      ...(opts.hostNetns === undefined ? {} : { hostNetns: opts.hostNetns }),
      capabilities: { ips: true, mac: true, portMappings: true, aliases: true },
    },
  ],
});
