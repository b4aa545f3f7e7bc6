/** The same kills with the state in etcd (transactions instead of a file rename): connect, disconnect, rm --force (see cases.ts). */
import { crashSuite } from './cases.js';

crashSuite(['connect', 'disconnect', 'rm'], { etcd: true });
