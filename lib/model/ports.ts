/**
 * Docker's port syntax, `[HOST_IP:]HOST_PORT[-END]:CONTAINER_PORT[-END][/PROTO]`, parsed into
 * one PortMapping per port (ranges map one to one), so one mapping is one firewall element.
 * Pure; every message names the bad value and what is allowed.
 */
import { tryParseAddress, formatAddress } from './cidr.js';
import { asString, at, describe, inputError } from './fields.js';
import { PORT_PROTOCOLS, type PortMapping, type PortProtocol } from './types.js';

const SYNTAX = '[HOST_IP:]HOST_PORT[-END]:CONTAINER_PORT[-END][/tcp|udp|sctp]';
/** A range longer than this is almost certainly a typo; Docker has no limit but each port is an element here. */
export const MAX_RANGE = 10_000;

interface Range {
  readonly first: number;
  readonly last: number;
}

const parsePort = (s: string, what: string, spec: string, path: string): number => {
  if (!/^[0-9]+$/.test(s)) throw inputError(path, `${JSON.stringify(spec)}: ${what} ${JSON.stringify(s)} is not a port number; expected 1-65535`);
  const n = Number(s);
  if (n < 1 || n > 65535) throw inputError(path, `${JSON.stringify(spec)}: ${what} ${s} is out of range; expected 1-65535`);
  return n;
};

const parseRange = (s: string, what: string, spec: string, path: string): Range => {
  const parts = s.split('-');
  if (parts.length > 2 || parts.some((p) => p === '')) {
    throw inputError(path, `${JSON.stringify(spec)}: ${what} ${JSON.stringify(s)} is not a port or a range; expected PORT or FIRST-LAST`);
  }
  const first = parsePort(parts[0] ?? '', what, spec, path);
  const last = parts[1] === undefined ? first : parsePort(parts[1], what, spec, path);
  if (last < first) throw inputError(path, `${JSON.stringify(spec)}: ${what} range ${s} ends before it starts; expected FIRST-LAST with FIRST <= LAST`);
  if (last - first + 1 > MAX_RANGE) throw inputError(path, `${JSON.stringify(spec)}: ${what} range ${s} has ${last - first + 1} ports; at most ${MAX_RANGE} are allowed`);
  return { first, last };
};

const parseHostIp = (s: string, spec: string, path: string): string => {
  const bracketed = /^\[(.*)\]$/.exec(s);
  const text = bracketed?.[1] ?? s;
  const a = tryParseAddress(text);
  if (a === undefined || (a.family === 6) !== (bracketed !== null)) {
    throw inputError(path, `${JSON.stringify(spec)}: host address ${JSON.stringify(s)} is not an IPv4 address or a bracketed IPv6 address like [::1]`);
  }
  return formatAddress(a.family, a.value);
};

/** Splits HOST_IP from the rest: IPv6 host addresses are bracketed, so the last ':' before the ports is never inside one. */
const splitParts = (body: string, spec: string, path: string): { hostIp?: string; host: string; container: string } => {
  const close = body.lastIndexOf(']');
  const head = close >= 0 ? body.slice(0, close + 1) : '';
  const rest = (close >= 0 ? body.slice(close + 1) : body).split(':');
  if (close >= 0) {
    if (rest.length !== 3 || rest[0] !== '') throw inputError(path, `${JSON.stringify(spec)} is not a port mapping; expected ${SYNTAX}`);
    return { hostIp: head, host: rest[1] ?? '', container: rest[2] ?? '' };
  }
  if (rest.length === 2) return { host: rest[0] ?? '', container: rest[1] ?? '' };
  if (rest.length === 3) return { hostIp: rest[0] ?? '', host: rest[1] ?? '', container: rest[2] ?? '' };
  const why = rest.length === 1 ? 'a host port is required (tnet never picks one)' : 'an IPv6 host address must be in brackets, like [::1]:8080:80';
  throw inputError(path, `${JSON.stringify(spec)} is not a port mapping: ${why}; expected ${SYNTAX}`);
};

const parseProtocol = (s: string | undefined, spec: string, path: string): PortProtocol => {
  if (s === undefined) return 'tcp';
  const p = s.toLowerCase();
  if (!(PORT_PROTOCOLS as readonly string[]).includes(p)) {
    throw inputError(path, `${JSON.stringify(spec)}: protocol ${JSON.stringify(s)} is not allowed; expected ${PORT_PROTOCOLS.join(', ')}`);
  }
  return p as PortProtocol;
};

/** One `-p` value into its mappings (several for a range). */
export const parsePortSpec = (spec: string, path: string): PortMapping[] => {
  const slash = spec.split('/');
  if (slash.length > 2) throw inputError(path, `${JSON.stringify(spec)} has more than one '/'; expected ${SYNTAX}`);
  const protocol = parseProtocol(slash[1], spec, path);
  const parts = splitParts(slash[0] ?? '', spec, path);
  const hostIp = parts.hostIp === undefined || parts.hostIp === '' ? undefined : parseHostIp(parts.hostIp, spec, path);
  const host = parseRange(parts.host, 'host port', spec, path);
  const container = parseRange(parts.container, 'container port', spec, path);
  if (host.last - host.first !== container.last - container.first) {
    throw inputError(path, `${JSON.stringify(spec)}: host range ${parts.host} and container range ${parts.container} have different lengths; ranges map one to one`);
  }
  return Array.from({ length: host.last - host.first + 1 }, (_, i) => ({
    protocol,
    ...(hostIp === undefined ? {} : { hostIp }),
    hostPort: host.first + i,
    containerPort: container.first + i,
  }));
};

/** Where a mapping listens, for conflicts and messages: "tcp 127.0.0.1:8080", "udp [::1]:53", "tcp *:80". */
export const describeHostSide = (m: Pick<PortMapping, 'protocol' | 'hostIp' | 'hostPort'>): string => {
  const ip = m.hostIp === undefined ? '*' : m.hostIp.includes(':') ? `[${m.hostIp}]` : m.hostIp;
  return `${m.protocol} ${ip}:${m.hostPort}`;
};

/** Back to Docker's syntax (one port): "127.0.0.1:8080:80/tcp". */
export const formatPortMapping = (m: PortMapping): string => {
  const ip = m.hostIp === undefined ? '' : m.hostIp.includes(':') ? `[${m.hostIp}]:` : `${m.hostIp}:`;
  return `${ip}${m.hostPort}:${m.containerPort}/${m.protocol}`;
};

/** Several `-p` values (or a spec file's `ports:` list) into one list; a host side given twice is refused. */
export const parsePortList = (v: unknown, path: string): PortMapping[] => {
  if (!Array.isArray(v)) throw inputError(path, `expected a list of port mappings like "8080:80/tcp", got ${describe(v)}`);
  const out: PortMapping[] = [];
  v.forEach((item, i) => {
    for (const m of parsePortSpec(asString(typeof item === 'number' ? String(item) : item, at(path, i)), at(path, i))) {
      if (out.some((o) => sameHostSide(o, m))) throw inputError(at(path, i), `${describeHostSide(m)} is published twice`);
      out.push(m);
    }
  });
  return out;
};

/** The same host side (protocol, address, port): two such mappings cannot both be published. */
export const sameHostSide = (a: PortMapping, b: PortMapping): boolean =>
  a.protocol === b.protocol && a.hostPort === b.hostPort && a.hostIp === b.hostIp;

export const sameMapping = (a: PortMapping, b: PortMapping): boolean => sameHostSide(a, b) && a.containerPort === b.containerPort;

/** The same set of mappings, in any order. */
export const samePorts = (a: readonly PortMapping[], b: readonly PortMapping[]): boolean =>
  a.length === b.length && a.every((m) => b.some((n) => sameMapping(m, n)));
