/** `--netns` or `--container`: how `disconnect` and `port` name the attachment they act on. */
import type { Argv } from 'yargs';
import { endpointRefOf, type EndpointRef } from '../model/endpoint-ref.js';
import { optionalString, type Args } from './args.js';

export const withEndpointOptions = (y: Argv): Argv =>
  y
    .option('netns', { type: 'string', describe: 'Namespace: a path, a name under /run/netns, or a PID' })
    .option('container', { type: 'string', describe: 'Or: the container id a runtime attached through the CNI plugin (a unique prefix will do)' });

export const endpointRefArg = (args: Args): EndpointRef => endpointRefOf(optionalString(args, 'netns'), optionalString(args, 'container'));
