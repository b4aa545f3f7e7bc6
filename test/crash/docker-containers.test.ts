/** Kill at every step, then the user's next command: docker run, network connect/disconnect, rm -f (see docker-cases.ts). */
import { dockerCrashSuite } from './docker-cases.js';

dockerCrashSuite('dc', ['run', 'connect', 'disconnect', 'rmf']);
