/** Kill at every step, retry, converge: publish, unpublish (see cases.ts). */
import { crashSuite } from './cases.js';

crashSuite(['publish', 'unpublish']);
