/** Kill at every step, retry, converge: apply (see cases.ts). */
import { crashSuite } from './cases.js';

crashSuite(['apply']);
