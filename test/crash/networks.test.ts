/** Kill at every step, retry, converge: create, rm (see cases.ts). */
import { crashSuite } from './cases.js';

crashSuite(['create', 'rm', 'rmThenCreate']);
