import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../lib/cli/main.js';
import { DEFAULT_STATE_DIR, hostDefaults, parseHostConfig } from '../../lib/host-config.js';
import { makeStateDir } from '../helpers/state-dir.js';
import { expectError } from './expect-error.js';

const dir = makeStateDir('hostconf');
afterAll(() => dir.remove());
const configFile = (text: string): string => {
  const path = join(dir.dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, text);
  return path;
};

describe('/etc/tnet/config.json', () => {
  it('parses the store and the state dir', () => {
    expect(parseHostConfig('{"store":"etcd://10.0.0.1:2379","stateDir":"/srv/tnet"}', 'f')).toEqual({ store: 'etcd://10.0.0.1:2379', stateDir: '/srv/tnet' });
    expect(parseHostConfig('{}', 'f')).toEqual({});
  });

  it('refuses bad JSON, unknown settings and wrong types, naming the file and the setting', () => {
    expectError(() => parseHostConfig('{"store":', '/etc/tnet/config.json'), 'invalidConfig', /\/etc\/tnet\/config\.json: not valid JSON/);
    expectError(() => parseHostConfig('["etcd://x"]', 'f'), 'invalidConfig', /expected a JSON object/);
    expectError(() => parseHostConfig('{"stor":"etcd://x"}', 'f'), 'invalidConfig', /unknown setting "stor"; allowed: store, stateDir/);
    expectError(() => parseHostConfig('{"stateDir":7}', 'f'), 'invalidConfig', /"stateDir" must be a non-empty string, got 7/);
  });

  it('ranks the environment over the file over the built-in default', () => {
    const file = configFile('{"store":"etcd://10.9.0.1:2379","stateDir":"/srv/from-file"}');
    expect(hostDefaults({ TNET_CONFIG: file })).toEqual({ store: 'etcd://10.9.0.1:2379', stateDir: '/srv/from-file' });
    expect(hostDefaults({ TNET_CONFIG: file, TNET_STORE: 'local:', TNET_STATE_DIR: '/srv/env' })).toEqual({ store: 'local:', stateDir: '/srv/env' });
    expect(hostDefaults({ TNET_CONFIG: join(dir.dir, 'absent.json') })).toEqual({ stateDir: DEFAULT_STATE_DIR });
    expect(hostDefaults({ TNET_CONFIG: '' })).toEqual({ stateDir: DEFAULT_STATE_DIR });
  });

  it('is what the CLI uses without flags, and a broken one stops it with exit 2 and the file named', async () => {
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t) };
    const stateDir = join(dir.dir, 'from-config');
    expect(await runCli(['ls', '--json'], io, { TNET_CONFIG: configFile(JSON.stringify({ stateDir })) })).toBe(0);
    expect(existsSync(stateDir)).toBe(true);
    const broken = configFile('{"store": 5}');
    expect(await runCli(['ls'], io, { TNET_CONFIG: broken })).toBe(2);
    expect(lines.at(-1)).toBe(`tnet: ${broken}: "store" must be a non-empty string, got 5`);
  });
});
