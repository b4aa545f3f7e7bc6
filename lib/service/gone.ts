/**
 * Endpoints whose container namespace no longer exists: no repair can bring them back. How the
 * daemon treats them is in daemon/release.ts; this is what `inspect`, `doctor` and the daemon
 * say about those it keeps.
 */
import { isTnetError } from '../errors.js';
import type { Endpoint } from '../model/types.js';
import type { ServiceContext } from './context.js';

export const namespaceExists = (ctx: ServiceContext, path: string): boolean => {
  try {
    ctx.kernel.openNetns(path).close();
    return true;
  } catch (e) {
    if (isTnetError(e, 'notFound')) return false;
    throw e;
  }
};

/**
 * What frees a Docker endpoint whose container is gone: Docker's own calls, never tnet's CLI
 * (Docker would still count the endpoint as attached). What Docker forgot (its DeleteEndpoint
 * did not reach tnet) goes when the Docker role starts and dockerd no longer lists it
 * (docker/recover.ts), or when Docker hands its address out again (docker/driver-endpoints.ts).
 */
export const dockerGoneFix = (e: Endpoint): string =>
  `if Docker no longer has it (docker network inspect ${e.network}), the tnet daemon removes it when it starts again (systemctl restart tnet) or when Docker gives ${[e.ipv4, e.ipv6].filter((a) => a !== undefined).join(', ') || 'its address'} to another container; otherwise 'docker network disconnect -f ${e.network} CONTAINER' or 'docker network rm ${e.network}' removes it`;

/** The line for a kept endpoint whose namespace is gone. */
export const goneAdvice = (e: Endpoint): string => {
  if (e.owner.kind === 'docker') return `endpoint ${e.network}/${e.netns} (Docker endpoint ${e.owner.endpointId.slice(0, 12)}): the container's namespace is gone; ${dockerGoneFix(e)}`;
  const addresses = [e.ipv4, e.ipv6].filter((a) => a !== undefined).join(', ');
  return `endpoint ${e.network}/${e.netns}: the namespace is gone; run 'tnet disconnect ${e.network} --netns ${e.netns}' to free ${addresses === '' ? 'it' : addresses} (it is attached again if the namespace comes back)`;
};
