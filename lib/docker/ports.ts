/**
 * Docker's port bindings (`-p`, `-P`) as they arrive in ProgramExternalConnectivity, and the host
 * ports tnet chooses for them: Docker leaves that to a remote driver, so HostPort 0 (`-P`, or
 * `-p 80`) means any free port, and HostPort..HostPortEnd (`-p 8000-8010:80`) any free port in
 * that range. Pure.
 */
import { TnetError } from '../errors.js';
import { parseIp } from '../model/cidr.js';
import { asInteger, asRecordList, at, describe, inputError } from '../model/fields.js';
import type { PortBinding, PortMapping, PortProtocol } from '../model/types.js';

/** IANA protocol numbers, as Go's libnetwork/types.Protocol encodes them. */
const PROTOCOLS: Readonly<Record<number, PortProtocol>> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };

/** Where Docker's own bridge picks `-P` ports (libnetwork's portallocator). */
export const EPHEMERAL_PORTS = { first: 49153, last: 65535 } as const;

export const parseDockerPortmap = (v: unknown, path: string): PortBinding[] =>
  asRecordList(v, path, 'port bindings', (rec, p) => {
    const protocol = PROTOCOLS[Number(rec['Proto'])];
    if (protocol === undefined) throw inputError(at(p, 'Proto'), `${describe(rec['Proto'])} is not a protocol tnet publishes; expected 6 (tcp), 17 (udp) or 132 (sctp)`);
    const hostIpText = rec['HostIP'] === undefined || rec['HostIP'] === null || rec['HostIP'] === '' ? undefined : rec['HostIP'];
    if (hostIpText !== undefined && typeof hostIpText !== 'string') throw inputError(at(p, 'HostIP'), `expected an address, got ${describe(hostIpText)}`);
    const hostPort = rec['HostPort'] === undefined ? 0 : asInteger(rec['HostPort'], at(p, 'HostPort'), 0, 65535);
    const end = rec['HostPortEnd'] === undefined ? 0 : asInteger(rec['HostPortEnd'], at(p, 'HostPortEnd'), 0, 65535);
    const hostPortEnd = end === 0 ? hostPort : end;
    if (hostPortEnd < hostPort) throw inputError(at(p, 'HostPortEnd'), `${hostPortEnd} is below HostPort ${hostPort}`);
    return {
      protocol,
      containerPort: asInteger(rec['Port'], at(p, 'Port'), 1, 65535),
      ...(hostIpText === undefined ? {} : { hostIp: parseIp(hostIpText, at(p, 'HostIP')).address }),
      hostPort,
      hostPortEnd,
    };
  });

/** Whether a host port is published already (by another endpoint), for this protocol and host address. */
export type PortTaken = (protocol: PortProtocol, hostPort: number, hostIp: string | undefined) => boolean;

const sameBinding = (m: PortMapping, b: PortBinding): boolean => m.protocol === b.protocol && m.containerPort === b.containerPort && m.hostIp === b.hostIp;

/**
 * The mappings for these bindings. A port the endpoint already publishes for the same binding is
 * kept (Docker programs the same endpoint again when it becomes the gateway once more), otherwise
 * the lowest free one in range; 'exhausted' when a range has none left.
 */
export const choosePorts = (bindings: readonly PortBinding[], current: readonly PortMapping[], taken: PortTaken): PortMapping[] => {
  const chosen: PortMapping[] = [];
  const free = (b: PortBinding, port: number): boolean =>
    !taken(b.protocol, port, b.hostIp) && !chosen.some((m) => m.protocol === b.protocol && m.hostPort === port && (m.hostIp === undefined || b.hostIp === undefined || m.hostIp === b.hostIp));
  for (const b of bindings) {
    const [first, last] = b.hostPort === 0 ? [EPHEMERAL_PORTS.first, EPHEMERAL_PORTS.last] : [b.hostPort, b.hostPortEnd];
    const fixed = first === last;
    const kept = current.find((m) => sameBinding(m, b) && m.hostPort >= first && m.hostPort <= last && free(b, m.hostPort));
    let port = kept?.hostPort;
    for (let p = first; port === undefined && p <= last; p++) if (fixed || free(b, p)) port = p;
    if (port === undefined) {
      throw new TnetError('exhausted', `no free ${b.protocol} host port from ${first} to ${last} for container port ${b.containerPort}; every one is published already`, { target: String(b.containerPort) });
    }
    chosen.push({ protocol: b.protocol, hostPort: port, containerPort: b.containerPort, ...(b.hostIp === undefined ? {} : { hostIp: b.hostIp }) });
  }
  return chosen;
};
