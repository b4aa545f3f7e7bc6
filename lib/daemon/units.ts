/**
 * The systemd units of the daemon, written by `tnet daemon install --systemd-dir DIR` (and by
 * `tnet cni install --systemd-dir`, which needs the same): tnet.service runs `tnet daemon` at boot,
 * and tnet-cni.socket holds the CNI socket for it, so a plugin call made while the daemon starts
 * or restarts waits in the socket's backlog instead of falling back to a cold plugin, and the
 * first call starts the daemon if nothing else did. Pure text; the CLI writes the files.
 */

export const DAEMON_SERVICE_UNIT = 'tnet.service';
export const CNI_SOCKET_UNIT = 'tnet-cni.socket';

/** % starts a specifier in systemd's settings. */
const systemdEscape = (s: string): string => s.replaceAll('%', '%%');
/** For systemd's command lines: "…" with C escapes. */
const systemdQuote = (s: string): string => `"${systemdEscape(s.replace(/[\\"]/g, '\\$&'))}"`;

export interface UnitArgs {
  /** node (absolute), then the compiled CLI (absolute). */
  readonly cli: readonly string[];
  /** Options before the command (--state-dir, --store), as `daemon install` was given them. */
  readonly global?: readonly string[];
  /** The daemon's own options (--roles, --resync). */
  readonly daemon?: readonly string[];
}

export const daemonUnits = (a: UnitArgs, cniSocket: string): Readonly<Record<string, string>> => ({
  [CNI_SOCKET_UNIT]: [
    '[Unit]',
    'Description=tnet CNI plugin calls (handed to the tnet daemon)',
    '',
    '[Socket]',
    `ListenStream=${systemdEscape(cniSocket)}`,
    'SocketMode=0600',
    'DirectoryMode=0755',
    `Service=${DAEMON_SERVICE_UNIT}`,
    '',
    '[Install]',
    'WantedBy=sockets.target',
    '',
  ].join('\n'),
  [DAEMON_SERVICE_UNIT]: [
    '[Unit]',
    'Description=tnet host daemon (drift repair, overlay agent, CNI socket, Docker plugin)',
    'After=network-online.target',
    'Wants=network-online.target',
    // dockerd gives up on a network plugin it cannot reach when it starts (restart policies fail for good).
    'Before=docker.service',
    '',
    '[Service]',
    `ExecStart=${[...a.cli, ...(a.global ?? []), 'daemon', ...(a.daemon ?? []), '--cni-socket', cniSocket].map(systemdQuote).join(' ')}`,
    `Sockets=${CNI_SOCKET_UNIT}`,
    'Restart=on-failure',
    'RestartSec=1',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n'),
});
