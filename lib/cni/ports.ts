/**
 * SEAM (port publishing): the `portMappings` runtime capability.
 *
 * The mappings are parsed and typed here. The port publishing engine is being built on another
 * branch (it adds `ports` to endpoints and a port service); once it is merged, `portsSupported`
 * becomes true and commands.ts hands `mappings` to it in ADD (see the `PORTS SEAM` comment
 * there). Until then a non-empty list is refused with code 2 rather than silently ignored, so a
 * runtime never believes a port is published when it is not. An empty list (what Podman sends
 * without -p) is fine.
 */
import { asInteger, asRecord, asString, at, describe, inputError } from '../model/fields.js';
import { parseIp } from '../model/cidr.js';

export interface CniPortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostIP?: string;
}

export const portsSupported = false;

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
