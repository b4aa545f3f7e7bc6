/**
 * The suite checks the Vagrantfile without booting it: its addressing and units must match the
 * lab's (scenarios/lab/topology.ts), and `vagrant validate -p` must accept it when Debian's vagrant
 * is installed (bin/setup.sh --test installs it). `bash bin/test.sh --vms` boots it and runs every
 * scenario on it (bin/vms.sh).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT, UNDERLAY_PREFIX, hostAddress } from '../../scenarios/lab/topology.js';

const ROOT = join(import.meta.dirname, '../..');
const text = readFileSync(join(ROOT, 'Vagrantfile'), 'utf8');
const hasVagrant = spawnSync('vagrant', ['--version']).status === 0;

describe('Vagrantfile', () => {
  it('uses the lab addressing: h1..h3 at .11-.13, etcd ports, agent and store wiring', () => {
    expect(text).toContain(`SUBNET = "${UNDERLAY_PREFIX}"`);
    expect(text).toContain('def host_ip(i) = "#{SUBNET}.#{10 + i}"');
    expect(hostAddress(1)).toBe(`${UNDERLAY_PREFIX}.11`);
    expect(text).toContain('HOSTS = 3');
    expect(text).toContain(`:${ETCD_PEER_PORT}`);
    expect(text).toContain(`:${ETCD_CLIENT_PORT}`);
    for (const needle of ['tnet-agent.service', 'tnet host join --vtep', 'tnet daemon --roles repair,agent,dns', 'etcd-server', 'bin/setup.sh', '/etc/tnet/config.json']) expect(text).toContain(needle);
  });

  it.skipIf(!hasVagrant)('passes vagrant validate -p', () => {
    const home = mkdtempSync(join(tmpdir(), 'tnet-test-vagrant-'));
    try {
      const r = spawnSync('vagrant', ['validate', '-p'], { cwd: ROOT, env: { ...process.env, VAGRANT_HOME: home }, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('Vagrantfile validated successfully');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
