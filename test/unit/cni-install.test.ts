/** `tnet cni install`: finding the plugin from wherever the CLI's code runs, and the wrapper it writes. */
import { describe, expect, it } from 'vitest';
import { findCompiled } from '../../lib/cli/commands/compiled.js';
import { pluginWrapper } from '../../lib/cni/install.js';
import { daemonUnits } from '../../lib/daemon/units.js';

describe('findCompiled', () => {
  const findPlugin = (here: string, exists: (path: string) => boolean) => findCompiled('tnet-cni', here, exists);
  const existing = (...files: string[]) => (path: string) => files.includes(path);

  it('finds the plugin launcher next to the CLI bundle', () => {
    expect(findPlugin('file:///t/dist/bin/tnet.bundle.cjs', existing('/t/dist/bin/tnet-cni.cjs'))).toBe('/t/dist/bin/tnet-cni.cjs');
  });

  it('finds dist/bin from the ES modules in dist/lib, preferring the bundle to the ES entry', () => {
    const here = 'file:///t/dist/lib/cli/commands/cni.js';
    expect(findPlugin(here, existing('/t/dist/bin/tnet-cni.cjs', '/t/dist/bin/tnet-cni.js'))).toBe('/t/dist/bin/tnet-cni.cjs');
    expect(findPlugin(here, existing('/t/dist/bin/tnet-cni.js'))).toBe('/t/dist/bin/tnet-cni.js');
  });

  it('finds the CLI the same way', () => {
    expect(findCompiled('tnet', 'file:///t/dist/lib/cli/commands/cni.js', existing('/t/dist/bin/tnet.cjs', '/t/dist/bin/tnet-cni.cjs'))).toBe('/t/dist/bin/tnet.cjs');
  });

  it('finds nothing rather than a path that is not there', () => {
    expect(findPlugin('file:///t/dist/bin/tnet.bundle.cjs', existing())).toBeUndefined();
  });
});

describe('pluginWrapper', () => {
  const wrapper = pluginWrapper(['/usr/bin/node', "/opt/it's/tnet-cni.cjs"], "/run/it's/cni.sock");

  it('offers the call to the server on the given socket, quoted', () => {
    expect(wrapper.split('\n').slice(0, 4)).toEqual([
      '#!/bin/sh',
      '# tnet CNI plugin (written by `tnet cni install`); runtimes exec this with CNI_* set.',
      'conf=$(cat)',
      `sock='/run/it'\\''s/cni.sock'`,
    ]);
  });

  it('else execs the given command line, quoted, with the runtime\'s arguments and the config it read', () => {
    expect(wrapper.split('\n').slice(-4)).toEqual([`exec '/usr/bin/node' '/opt/it'\\''s/tnet-cni.cjs' "$@" <<EOF`, '$conf', 'EOF', '']);
  });
});

describe('daemonUnits', () => {
  const units = daemonUnits({ cli: ['/usr/bin/node', '/opt/t net/dist/bin/tnet.cjs'], global: ['--state-dir', '/var/lib/t'], daemon: ['--resync', '60'] }, '/run/tnet/100%/cni.sock');

  it('listens where the wrapper looks, root only, and hands the socket to the daemon', () => {
    expect(units['tnet-cni.socket']).toContain('\nListenStream=/run/tnet/100%%/cni.sock\nSocketMode=0600\n');
    expect(units['tnet-cni.socket']).toContain('\nService=tnet.service\n');
  });

  it('runs `tnet daemon` with the options it was installed with, and the socket', () => {
    expect(units['tnet.service']).toContain(
      '\nExecStart="/usr/bin/node" "/opt/t net/dist/bin/tnet.cjs" "--state-dir" "/var/lib/t" "daemon" "--resync" "60" "--cni-socket" "/run/tnet/100%%/cni.sock"\n',
    );
    expect(units['tnet.service']).toContain('\nSockets=tnet-cni.socket\n');
    expect(units['tnet.service']).toContain('\nWantedBy=multi-user.target\n');
  });
});
