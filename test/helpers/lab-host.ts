/**
 * A throwaway "host" for tests: a namespace tnet treats as the host (--host-netns), its own state
 * dir, an uplink to an "outside" namespace (203.0.113.0/24 and 2001:db8:113::/64, documentation
 * ranges that exist only inside these namespaces), and container namespaces on demand. tnet runs
 * in-process through the real CLI entry (runCli), so every test goes through argument parsing.
 */
import { runCli } from '../../lib/cli/main.js';
import { addNetns, delNetnsWithPrefix } from './netns.js';
import { sh } from './sh.js';
import { makeStateDir } from './state-dir.js';

export const OUTSIDE_V4 = '203.0.113.2';
export const HOST_UPLINK_V4 = '203.0.113.1';
export const OUTSIDE_V6 = '2001:db8:113::2';
export const HOST_UPLINK_V6 = '2001:db8:113::1';

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface LabHost {
  /** The shared store this host uses (etcd://…), when not its embedded one. */
  readonly store?: string;
  /** What every namespace of this lab host starts with (host, outside, containers). */
  readonly prefix: string;
  readonly ns: string;
  readonly outside: string;
  readonly stateDir: string;
  tnet(...args: string[]): Promise<CliResult>;
  /** Like tnet(), but throws with stderr when the command fails. */
  ok(...args: string[]): Promise<string>;
  container(name: string): string;
  /** Links in the host namespace that tnet made (bridges and veths). */
  tnetLinks(): string[];
  nftTable(): string | undefined;
  destroy(): void;
}

export const createLabHost = (prefix: string, options: { readonly store?: string } = {}): LabHost => {
  const ns = addNetns(`${prefix}-host`);
  const hostName = `${prefix}-host`;
  const outside = `${prefix}-out`;
  addNetns(outside);
  const state = makeStateDir(prefix);
  sh('ip', 'link', 'add', `${prefix.slice(0, 8)}up`, 'netns', hostName, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', outside);
  const up = `${prefix.slice(0, 8)}up`;
  for (const [n, dev, v4, v6] of [
    [hostName, up, HOST_UPLINK_V4, HOST_UPLINK_V6],
    [outside, 'uplink', OUTSIDE_V4, OUTSIDE_V6],
  ] as const) {
    sh('ip', '-n', n, 'addr', 'add', `${v4}/24`, 'dev', dev);
    sh('ip', '-n', n, '-6', 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad');
    sh('ip', '-n', n, 'link', 'set', dev, 'up');
  }

  const tnet = async (...args: string[]): Promise<CliResult> => {
    let out = '';
    let err = '';
    const store = options.store === undefined ? [] : ['--store', options.store];
    const code = await runCli([...args, '--host-netns', ns, '--state-dir', state.dir, ...store], {
      out: (t) => (out += t.endsWith('\n') ? t : `${t}\n`),
      err: (t) => (err += t.endsWith('\n') ? t : `${t}\n`),
    }, { TNET_CONFIG: '' }); // never this machine's /etc/tnet/config.json
    return { code, out, err };
  };

  return {
    ...(options.store === undefined ? {} : { store: options.store }),
    prefix: `${prefix}-`,
    ns: hostName,
    outside,
    stateDir: state.dir,
    tnet,
    ok: async (...args) => {
      const r = await tnet(...args);
      if (r.code !== 0) throw new Error(`tnet ${args.join(' ')} failed (${r.code}): ${r.err}`);
      return r.out;
    },
    container: (name) => {
      const full = `${prefix}-${name}`;
      addNetns(full);
      return full;
    },
    tnetLinks: () =>
      sh('ip', '-n', hostName, '-o', 'link', 'show')
        .split('\n')
        .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
        .filter((n) => n.startsWith('tnbr-') || n.startsWith('tnv')),
    nftTable: () => {
      try {
        return sh('ip', 'netns', 'exec', hostName, 'nft', 'list', 'table', 'inet', 'tnet');
      } catch {
        return undefined;
      }
    },
    destroy: () => {
      delNetnsWithPrefix(`${prefix}-`);
      state.remove();
    },
  };
};
