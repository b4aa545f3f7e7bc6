/** Kill at every step, retry, converge: connect, disconnect (see cases.ts). */
import { crashSuite } from './cases.js';

crashSuite(['connect', 'disconnect', 'disconnectThenConnect']);
