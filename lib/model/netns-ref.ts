/** How users name a network namespace: an absolute path, a name under /run/netns, or a PID. */
import { TnetError } from '../errors.js';

export const NETNS_RUN_DIR = '/run/netns';

export const netnsPathOf = (ref: string): string => {
  if (ref.startsWith('/')) return ref;
  if (/^[1-9][0-9]*$/.test(ref)) return `/proc/${ref}/ns/net`;
  if (/^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/.test(ref) && ref !== '.' && ref !== '..') return `${NETNS_RUN_DIR}/${ref}`;
  throw new TnetError('invalidInput', `invalid netns ${JSON.stringify(ref)}: give an absolute path, a name under ${NETNS_RUN_DIR}, or a PID`, {
    target: ref,
  });
};
