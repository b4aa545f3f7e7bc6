/**
 * The `portMappings` runtime capability: the runtime's list, checked field by field with CNI
 * paths in the messages, then handed to tnet's port publishing as the endpoint's `ports`.
 */
import { asInteger, asRecordList, asString, at, inputError } from '../model/fields.js';
import { parseIp } from '../model/cidr.js';
import type { PortMapping } from '../model/types.js';

export interface CniPortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostIP?: string;
}

const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;

export const parsePortMappings = (v: unknown, path: string): CniPortMapping[] =>
  asRecordList(v, path, 'port mappings', (r, p) => {
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

export const toPortMappings = (mappings: readonly CniPortMapping[]): PortMapping[] =>
  mappings.map((m) => ({
    protocol: m.protocol,
    hostPort: m.hostPort,
    containerPort: m.containerPort,
    ...(m.hostIP === undefined ? {} : { hostIp: m.hostIP }),
  }));
