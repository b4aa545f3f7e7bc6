/**
 * An EndpointRequest from untyped input (`tnet connect` flags, an `endpoints:` entry of a spec
 * file), and its checks against the network it joins.
 */
import { checkRequestedAddress } from '../ipam/allocate.js';
import { parseIp } from './cidr.js';
import { dnsKey, validateDnsName } from './dns-name.js';
import { asRecord, asString, asStringList, at, inputError, onlyKeys } from './fields.js';
import { validateIfname, validateMac, validateNetworkName } from './names.js';
import { parsePortList } from './ports.js';
import { isAddressedDriver, type DriverKind, type EndpointRequest, type IpFamily } from './types.js';

export const ENDPOINT_FIELDS = ['network', 'netns', 'ifname', 'ip', 'ip6', 'mac', 'name', 'aliases', 'ports'] as const;

const PID = /^[1-9][0-9]*$/;

/** Where a netns given as a name, a path or a PID lives; pure, the path need not exist. */
export const netnsPath = (netns: string): string =>
  netns.startsWith('/') ? netns : PID.test(netns) ? `/proc/${netns}/ns/net` : `/run/netns/${netns}`;

const parseNetns = (v: unknown, path: string): string => {
  const s = asString(v, path);
  if (!s.startsWith('/') && (s.includes('/') || s === '.' || s === '..')) {
    throw inputError(path, `${JSON.stringify(s)} is not a netns; give a name under /run/netns, an absolute path or a PID`);
  }
  return s;
};

const parseFamilyIp = (v: unknown, family: IpFamily, path: string): string => {
  const ip = parseIp(asString(v, path), path);
  if (ip.family !== family) {
    throw inputError(path, `${ip.address} is an IPv${ip.family} address; use ${family === 4 ? 'ip6' : 'ip'} for IPv${ip.family}`);
  }
  return ip.address;
};

/** Aliases are DNS names (dns-name.ts); one given twice, in any case, is a mistake worth naming. */
export const parseAliases = (v: unknown, path: string): string[] => {
  const aliases = asStringList(v, path);
  const keys = aliases.map(dnsKey);
  for (const [i, a] of aliases.entries()) {
    validateDnsName(a, at(path, i), 'alias');
    if (keys.indexOf(dnsKey(a)) !== i) throw inputError(at(path, i), `alias ${JSON.stringify(a)} is given twice`);
  }
  return aliases;
};

/** @param where path prefix for messages ('' for the CLI, 'networks[0].endpoints[1]' for a spec file entry) */
export const parseEndpointRequest = (input: unknown, where: string): EndpointRequest => {
  const rec = asRecord(input, where);
  onlyKeys(rec, ENDPOINT_FIELDS, where);
  for (const required of ['network', 'netns'] as const) {
    if (rec[required] === undefined) throw inputError(at(where, required), 'is required');
  }
  const path = (k: string): string => at(where, k);
  return {
    network: validateNetworkName(asString(rec.network, path('network')), path('network')),
    netns: parseNetns(rec.netns, path('netns')),
    ...(rec.ifname === undefined ? {} : { ifname: validateIfname(asString(rec.ifname, path('ifname')), path('ifname')) }),
    ...(rec.ip === undefined ? {} : { ipv4: parseFamilyIp(rec.ip, 4, path('ip')) }),
    ...(rec.ip6 === undefined ? {} : { ipv6: parseFamilyIp(rec.ip6, 6, path('ip6')) }),
    ...(rec.mac === undefined ? {} : { mac: validateMac(asString(rec.mac, path('mac')), path('mac')) }),
    ...(rec.name === undefined ? {} : { name: validateDnsName(asString(rec.name, path('name')), path('name'), 'name') }),
    ...(rec.aliases === undefined ? {} : { aliases: parseAliases(rec.aliases, path('aliases')) }),
    ...(rec.ports === undefined ? {} : { ports: parsePortList(rec.ports, path('ports')) }),
  };
};

type FamilySettings = { readonly subnet?: string; readonly gateway?: string } | undefined;

/** What endpoint checks need of a network; both a Network and a NetworkRequest (from the same spec file) fit. */
export interface NetworkShape {
  readonly name: string;
  readonly driver: DriverKind;
  readonly ipv4?: FamilySettings;
  readonly ipv6?: FamilySettings;
  readonly internal?: boolean;
}

const checkFamily = (ip: string, family: IpFamily, network: NetworkShape, path: string): void => {
  const cfg = family === 4 ? network.ipv4 : network.ipv6;
  if (cfg === undefined && family === 6) {
    throw inputError(path, `network "${network.name}" has no IPv6; create it with --ipv6 (ipv6: true) to give ${ip}`);
  }
  if (cfg?.subnet === undefined) {
    // Only a fixed subnet makes a fixed address meaningful; a chosen one is not known yet.
    throw inputError(path, `${ip} needs a subnet on network "${network.name}"; give the network a subnet`);
  }
  const settings = { subnet: cfg.subnet, ...(cfg.gateway === undefined ? {} : { gateway: cfg.gateway }) };
  checkRequestedAddress(settings, ip, path, network.name);
};

/**
 * Published ports need a container address to forward to and a way in from outside. Every
 * addressed driver has both (an overlay endpoint sits on a per-host bridge with that host's
 * gateway and firewall, like a bridge endpoint); host and none give no address of their own.
 */
export const checkCanPublish = (network: NetworkShape, path: string): void => {
  if (!isAddressedDriver(network.driver)) {
    throw inputError(path, `network "${network.name}" (driver ${network.driver}) gives the container no address of its own, so it cannot publish ports; its services already listen on the host's addresses`);
  }
  if (network.internal === true) {
    throw inputError(path, `network "${network.name}" is internal: nothing outside it can reach its containers, so it cannot publish ports`);
  }
};

/** Checks a request against its network: static addresses fit the subnets; host/none take no addresses. */
export const validateEndpointAgainstNetwork = (req: EndpointRequest, network: NetworkShape, where = ''): void => {
  const given = ([['ip', req.ipv4], ['ip6', req.ipv6], ['mac', req.mac]] as const).find(([, v]) => v !== undefined)?.[0];
  if (!isAddressedDriver(network.driver) && given !== undefined) {
    const why = `network "${network.name}" (driver ${network.driver}) creates no interface, so it takes no ${given}`;
    throw inputError(at(where, given), why);
  }
  if ((req.ports?.length ?? 0) > 0) checkCanPublish(network, at(where, 'ports'));
  if (req.ipv4 !== undefined) checkFamily(req.ipv4, 4, network, at(where, 'ip'));
  if (req.ipv6 !== undefined) checkFamily(req.ipv6, 6, network, at(where, 'ip6'));
};
