/**
 * Hosts of a cluster: the record a host leaves in the shared store when it joins, and the
 * static peers of a spec file. A host is named like a network and reached at its VTEP address
 * (IPv4, the underlay address VXLAN packets leave from).
 */
import { parseAddress, formatAddress } from './cidr.js';
import { asRecord, asString, at, inputError, onlyKeys } from './fields.js';
import { validateNetworkName } from './names.js';

export interface HostIdentity {
  readonly name: string;
  readonly vtep: string;
}

/** What `tnet host join` records; the host's liveness is a separate leased key kept by its agent. */
export interface HostRecord extends HostIdentity {
  readonly joined: string; // ISO time
}

export const validateHostName = (name: string, what = 'host name'): string => {
  try {
    return validateNetworkName(name, what);
  } catch {
    throw inputError(what, `host name ${JSON.stringify(name)} is not allowed; use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 64)`);
  }
};

export const validateVtep = (address: string, what = 'vtep'): string => {
  const a = parseAddress(address, what);
  if (a.family !== 4) throw inputError(what, `${address} is an IPv6 address; the VTEP address must be IPv4 for now`);
  return formatAddress(4, a.value);
};

/** `{name, vtep}` from a spec file's `host:` or one `peers:` entry. */
export const parseHostIdentity = (v: unknown, where: string): HostIdentity => {
  const rec = asRecord(v, where);
  onlyKeys(rec, ['name', 'vtep'], where);
  if (rec.name === undefined) throw inputError(at(where, 'name'), 'is required');
  if (rec.vtep === undefined) throw inputError(at(where, 'vtep'), 'is required');
  return {
    name: validateHostName(asString(rec.name, at(where, 'name')), at(where, 'name')),
    vtep: validateVtep(asString(rec.vtep, at(where, 'vtep')), at(where, 'vtep')),
  };
};
