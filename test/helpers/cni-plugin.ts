/**
 * The CNI plugin and the CLI as real processes: a transpiled copy of lib/ and bin/, and a plugin
 * wrapper named `tnet` in a bin dir (what `tnet cni install` writes), for tests that make many
 * plugin processes race or hand the plugin to a real container runtime.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pluginWrapper } from '../../lib/cni/install.js';
import { transpileTree } from './transpile.js';

export interface Exec {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CniPlugin {
  /** Directory holding the `tnet` wrapper (a CNI_PATH / cni_plugin_dirs entry). */
  readonly binDir: string;
  readonly plugin: string;
  readonly cli: string;
  /** Runs one plugin call: CNI_COMMAND etc. in env, the config as stdin. */
  call(command: string, env: Record<string, string>, conf: unknown): Promise<Exec & { readonly json: unknown }>;
  /** Runs the CLI (`node tnet.js ...args`). */
  tnet(...args: string[]): Promise<Exec>;
  remove(): void;
}

export const execFile = (cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<Exec> =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });

export const buildCniPlugin = (): CniPlugin => {
  const tree = transpileTree('cnibuild', ['lib', 'bin']);
  const binDir = join(tree.dir, 'cni-bin');
  mkdirSync(binDir);
  const plugin = join(binDir, 'tnet');
  writeFileSync(plugin, pluginWrapper([process.execPath, join(tree.dir, 'bin/tnet-cni.js')]));
  chmodSync(plugin, 0o755);
  const cli = join(tree.dir, 'bin/tnet.js');
  const base = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  return {
    binDir,
    plugin,
    cli,
    call: async (command, env, conf) => {
      const r = await execFile(plugin, [], { ...base, CNI_COMMAND: command, CNI_PATH: binDir, ...env }, typeof conf === 'string' ? conf : JSON.stringify(conf));
      let json: unknown;
      try {
        json = r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout);
      } catch {
        json = undefined;
      }
      return { ...r, json };
    },
    tnet: (...args) => execFile(process.execPath, [cli, ...args], base),
    remove: tree.remove,
  };
};
