/** Every role the daemon can run, by name: adding a role is a module and a line here. */
import { TnetError } from '../../errors.js';
import type { Role } from '../role.js';
import { agentRole } from './agent.js';
import { cniRole } from './cni.js';
import { dnsRole } from './dns.js';
import { dockerRole } from './docker.js';
import { repairRole } from './repair.js';

export const ROLES = { repair: repairRole, agent: agentRole, cni: cniRole, dns: dnsRole, docker: dockerRole } as const satisfies Record<string, Role>;
export type RoleName = keyof typeof ROLES;
export const ROLE_NAMES = Object.keys(ROLES) as RoleName[];

/** "repair,agent" -> the roles, in the order the daemon starts them (drift repair first). */
export const parseRoles = (text: string): Role[] => {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = names.filter((n) => !(n in ROLES));
  if (unknown.length > 0 || names.length === 0) {
    throw new TnetError('invalidInput', `--roles ${JSON.stringify(text)}: ${unknown.length > 0 ? `unknown role ${unknown.join(', ')}` : 'no role named'}; choose from ${ROLE_NAMES.join(', ')}`);
  }
  return ROLE_NAMES.filter((n) => names.includes(n)).map((n) => ROLES[n]);
};
