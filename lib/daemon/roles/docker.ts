/**
 * The Docker plugin: tnet as Docker's network driver and IPAM driver (lib/docker/), on the socket
 * dockerd discovers plugins at (`--docker-socket`, default /run/docker/plugins/tnet.sock: driver
 * `tnet`). It must run where that dockerd runs: the same network namespace (`--host-netns` when
 * the daemon runs outside it), and the same mount namespace, where Docker's container namespaces
 * are mounted.
 */
import { startDockerPlugin } from '../../docker/server.js';
import { requireHost, type Role } from '../role.js';

export const DEFAULT_DOCKER_SOCKET = '/run/docker/plugins/tnet.sock';
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export const dockerRole: Role = {
  name: 'docker',
  usesHostState: true,
  skip: (d) => (d.options.dockerSocket === '' ? 'no --docker-socket given' : undefined),
  async start(d) {
    const { ctx } = requireHost(d, 'docker');
    const plugin = await startDockerPlugin({ socketPath: d.options.dockerSocket, dockerSocket: d.options.dockerHost.replace(/^unix:\/\//, ''), ctx, log: (line) => d.log(`docker: ${line}`) });
    return { stop: () => plugin.stop(), status: () => plugin.status() };
  },
};
