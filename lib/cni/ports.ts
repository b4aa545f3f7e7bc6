/**
 * The `portMappings` runtime capability: the runtime's list, checked field by field with CNI
 * paths in the messages, then handed to tnet's port publishing as the endpoint's `ports`.
 */
import { asInteger, asRecord, asString, at, describe, inputError } from '../model/fields.js';
import { parseIp } from '../model/cidr.js';
import type { PortMapping } from '../model/types.js';

export interface CniPortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostIP?: string;
}

const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;

export const parsePortMappings = (v: unknown, path: string): CniPortMapping[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw inputError(path, `expected a list of port mappings, got ${describe(v)}`);
  return v.map((item, i) => {
    const p = at(path, i);
    const r = asRecord(item, p);
    const proto = r['protocol'] === undefined ? 'tcp' : asString(r['protocol'], at(p, 'protocol')).toLowerCase();
    const protocol = PROTOCOLS.find((x) => x === proto);
    if (protocol === undefined) throw inputError(at(p, 'protocol'), `${JSON.stringify(proto)} is not one of ${PROTOCOLS.join(', ')}`);
    const hostIP = r['hostIP'] === undefined || r['hostIP'] === '' ? undefined : parseIp(asString(r['hostIP'], at(p, 'hostIP')), at(p, 'hostIP')).address;
    return {
      hostPort: asInteger(r['hostPort'], at(p, 'hostPort'), 1, 65535),
      containerPort: asInteger(r['containerPort'], at(p, 'containerPort'), 1, 65535),
      protocol,
      ...(hostIP === undefined ? {} : { hostIP }),
    };
  });
};

export const toPortMappings = (mappings: readonly CniPortMapping[]): PortMapping[] =>
  mappings.map((m) => ({
    protocol: m.protocol,
    hostPort: m.hostPort,
    containerPort: m.containerPort,
    ...(m.hostIP === undefined ? {} : { hostIp: m.hostIP }),
  }));
