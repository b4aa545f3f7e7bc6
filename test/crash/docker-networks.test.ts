/** Kill at every step, then the user's next command: docker network create and rm (see docker-cases.ts). */
import { dockerCrashSuite } from './docker-cases.js';

dockerCrashSuite('dn', ['create', 'createIpam', 'networkRm', 'networkRmIpam']);
