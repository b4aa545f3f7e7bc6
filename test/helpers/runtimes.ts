/**
 * Real container runtimes for tests (see ../shared/RUNTIMES.md): what is installed, a busybox
 * rootfs without a registry, private config and storage under a 'tnet-test-' temp dir. Daemons
 * are started by the tests themselves and stopped by PID. A missing runtime is reported loudly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tryRun } from './sh.js';

/** Which of these commands (names on PATH or absolute paths) are missing. */
export const missingCommands = (commands: readonly string[]): string[] =>
  commands.filter((c) => (c.startsWith('/') ? !existsSync(c) : spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0));

/** Prints a banner that cannot be overlooked; returns the describe title to use. */
export const loudSkip = (runtime: string, missing: readonly string[]): string => {
  if (missing.length === 0) return runtime;
  const line = `!!! SKIPPED: ${runtime} tests: ${missing.join(', ')} not installed; run 'sudo bin/setup.sh --test' !!!`;
  console.warn(`\n${'!'.repeat(line.length)}\n${line}\n${'!'.repeat(line.length)}\n`);
  return `${runtime} (SKIPPED: ${missing.join(', ')} not installed)`;
};

const BUSYBOX = '/bin/busybox'; // Debian busybox-static: one static binary, runs in any rootfs

/** A busybox rootfs in dir (no registry needed): every applet linked, a root user. */
export const busyboxRootfs = (dir: string): string => {
  for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run', 'var', 'usr/bin', 'usr/sbin', 'www']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  const applets = tryRun(BUSYBOX, '--list').stdout.split('\n').filter((a) => a !== '' && a !== 'busybox');
  for (const a of applets) symlinkSync('/bin/busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(dir, 'www/index.html'), 'hello from tnet\n');
  return dir;
};

/** Unmounts anything still mounted under dir (a runtime that died midway), deepest first. */
export const unmountUnder = (dir: string): void => {
  const mounts = tryRun('findmnt', '-rn', '-o', 'TARGET').stdout.split('\n').filter((m) => m.startsWith(`${dir}/`));
  for (const m of mounts.sort((a, b) => b.length - a.length)) tryRun('umount', '-l', m);
};

/** Podman 4.3 with the CNI backend and runc, all config and storage private to dir. */
export const podmanConfig = (dir: string, pluginDirs: readonly string[], netDir: string): NodeJS.ProcessEnv => {
  const conf = join(dir, 'containers.conf');
  const storage = join(dir, 'storage.conf');
  writeFileSync(conf, [
    '[containers]',
    'log_driver = "k8s-file"',
    // No CAP_SYS_RESOURCE here: podman's default nofile of 1048576 cannot be set.
    'default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]',
    '[engine]',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    'runtime = "runc"', // crun refuses hybrid cgroups on this machine kind
    `tmp_dir = "${join(dir, 'tmp')}"`,
    '[network]',
    'network_backend = "cni"',
    `cni_plugin_dirs = [${pluginDirs.map((d) => JSON.stringify(d)).join(', ')}]`,
    `network_config_dir = "${netDir}"`,
    '',
  ].join('\n'));
  writeFileSync(storage, ['[storage]', 'driver = "overlay"', `runroot = "${join(dir, 'run')}"`, `graphroot = "${join(dir, 'graph')}"`, ''].join('\n'));
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage, HOME: dir };
};
