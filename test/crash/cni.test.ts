/** Kill at every step, retry, converge: cniAdd, cniDel (see cases.ts). */
import { crashSuite } from './cases.js';

crashSuite(['cniAdd', 'cniAddAgain', 'cniDel']);
