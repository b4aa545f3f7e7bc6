/**
 * The warm CNI path: answers the installed plugin's calls on a unix socket (lib/cni/serve.ts), so
 * a runtime's exec of the plugin costs a shell and socat instead of starting node. Each call
 * names its own state dir and store, so this role needs none of its own: one socket serves the
 * whole machine.
 */
import { startCniServer } from '../../cni/serve.js';
import type { Role } from '../role.js';

export const cniRole: Role = {
  name: 'cni',
  usesHostState: false,
  async start(d) {
    const server = await startCniServer({ socketPath: d.options.cniSocket, env: d.options.env, log: (line) => d.log(`cni: ${line}`) });
    return { stop: () => server.stop(), status: () => ({ socket: d.options.cniSocket }) };
  },
};
