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

/** The line for a kept endpoint whose namespace is gone. */
export const goneAdvice = (e: Endpoint): string => {
  const addresses = [e.ipv4, e.ipv6].filter((a) => a !== undefined).join(', ');
  return `endpoint ${e.network}/${e.netns}: the namespace is gone; run 'tnet disconnect ${e.network} --netns ${e.netns}' to free ${addresses === '' ? 'it' : addresses} (it is attached again if the namespace comes back)`;
};
