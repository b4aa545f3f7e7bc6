/** Addresses and main-table routes over rtnetlink. Adds accept what is there; deletes accept absence. */
import type { rt } from 'netlink';
import { isTnetError, TnetError } from '../errors.js';
import type { IpFamily } from '../model/types.js';
import { AF_INET, AF_INET6, afOf, bytesToIp, ipToBytes, parseCidr } from './inet.js';
import { REQUEST_TIMEOUT_MS, attempt, change, createExcl, enumValue, type Rtnl } from './rtnl.js';
import type { AddressState, NetlinkSession, RouteState } from './types.js';

type AddrOps = Pick<NetlinkSession, 'listAddresses' | 'addAddress' | 'deleteAddress' | 'listRoutes' | 'addRoute' | 'deleteRoute'>;

const RT_TABLE_MAIN = 254;
const familyOf = (af: number | undefined): IpFamily => (af === AF_INET6 ? 6 : 4);
const zeros = (family: IpFamily): Buffer => Buffer.alloc(family === 4 ? 4 : 16);

const toRouteState = (r: Rtnl, m: rt.RouteMessage): RouteState => {
  const { data, attrs } = m;
  const family = familyOf(data.family);
  return {
    family,
    destination: `${bytesToIp(attrs.dst ?? zeros(family))}/${data.dstLen ?? 0}`,
    ...(attrs.gateway ? { gateway: bytesToIp(attrs.gateway) } : {}),
    ...(attrs.oif ? { outIndex: attrs.oif } : {}),
    ...(attrs.priority === undefined ? {} : { metric: attrs.priority }),
    table: attrs.table ?? data.table ?? 0,
    protocol: enumValue(r.nl.rt.RouteProtocol, data.protocol),
    scope: enumValue(r.nl.rt.RouteScope, data.scope),
  };
};

const sameRoute = (a: RouteState, b: { destination: string; gateway?: string; outIndex?: number; metric?: number }): boolean =>
  a.destination === b.destination &&
  a.gateway === b.gateway &&
  (b.outIndex === undefined || a.outIndex === b.outIndex) &&
  // Unset means "the kernel's default" (0 for IPv4, 1024 for IPv6): any metric matches it.
  (b.metric === undefined || a.metric === b.metric);

export const addrOps = (r: Rtnl): AddrOps => {
  const { nl, socket } = r;
  const opts = { timeout: REQUEST_TIMEOUT_MS };

  /** ifaddrmsg + attrs; IPv4 sets IFA_LOCAL too, as `ip` does, since that is the interface address. */
  const addrMsg = (linkIndex: number, family: IpFamily, address: string, prefixLength: number) => {
    const bytes = ipToBytes(family, address);
    const data: rt.Address = { family: afOf(family), prefixlen: prefixLength, index: linkIndex };
    const attrs: rt.AddressAttrs = family === 4 ? { local: bytes, address: bytes } : { address: bytes };
    return { data, attrs, target: `${address}/${prefixLength} on link #${linkIndex}` };
  };

  /** Canonical destination and the rtmsg + attrs shared by add and delete. */
  const routeMsg = (route: { family: IpFamily; destination: string; gateway?: string; outIndex?: number; metric?: number }) => {
    const { bytes, prefixLength } = parseCidr(route.family, route.destination);
    const destination = `${bytesToIp(bytes)}/${prefixLength}`;
    const gw = route.gateway === undefined ? undefined : ipToBytes(route.family, route.gateway);
    const attrs: rt.RouteAttrs = {
      ...(prefixLength > 0 ? { dst: bytes } : {}),
      ...(gw ? { gateway: gw } : {}),
      ...(route.outIndex !== undefined ? { oif: route.outIndex } : {}),
      ...(route.metric !== undefined ? { priority: route.metric } : {}),
    };
    const data: rt.Route = { family: afOf(route.family), dstLen: prefixLength, table: RT_TABLE_MAIN };
    const gateway = gw ? bytesToIp(gw) : undefined;
    return { data, attrs, destination, gateway, target: `${destination}${gateway ? ` via ${gateway}` : ''}` };
  };

  const listRoutes = async (family: IpFamily): Promise<RouteState[]> => {
    const msgs = await attempt(r, 'list routes', `IPv${family}`, () => socket.getRoutes({ family: afOf(family) }, undefined, opts));
    // Main table, unicast only: local/broadcast/multicast routes are the kernel's own business.
    return (msgs ?? [])
      .filter((m) => (m.attrs.table ?? m.data.table) === RT_TABLE_MAIN && enumValue(nl.rt.RouteType, m.data.type) === 1)
      .map((m) => toRouteState(r, m));
  };

  return {
    async listAddresses(family) {
      const filter = family === undefined ? {} : { family: afOf(family) };
      const msgs = await attempt(r, 'list addresses', family ? `IPv${family}` : 'all', () => socket.getAddresses(filter, undefined, opts));
      return (msgs ?? [])
        .filter((m) => m.data.family === AF_INET || m.data.family === AF_INET6)
        .flatMap((m): AddressState[] => {
          const bytes = m.attrs.local ?? m.attrs.address;
          if (!bytes) return [];
          const f = familyOf(m.data.family);
          return [{ linkIndex: m.data.index ?? 0, family: f, address: bytesToIp(bytes), prefixLength: m.data.prefixlen ?? 0 }];
        });
    },

    async addAddress(linkIndex, family, address, prefixLength) {
      const { data, attrs, target } = addrMsg(linkIndex, family, address, prefixLength);
      // nodad: our addresses are assigned by tnet and unique by construction; DAD would only delay them.
      if (family === 6) data.flags = { nodad: true };
      await change(r, 'add address', target, () => socket.newAddress(data, attrs, { ...opts, flags: createExcl(nl) }), ['EEXIST']);
    },

    async deleteAddress(linkIndex, family, address, prefixLength) {
      const { data, attrs, target } = addrMsg(linkIndex, family, address, prefixLength);
      await change(r, 'delete address', target, () => socket.delAddress(data, attrs, opts), ['EADDRNOTAVAIL', 'ENODEV', 'ENOENT']);
    },

    listRoutes,

    async addRoute(route) {
      const { data, attrs, destination, gateway, target } = routeMsg(route);
      Object.assign(data, { protocol: 'BOOT', type: 'UNICAST', scope: gateway ? 'UNIVERSE' : 'LINK' });
      try {
        await change(r, 'add route', target, () => socket.newRoute(data, attrs, { ...opts, flags: createExcl(nl) }));
      } catch (e) {
        if (!isTnetError(e, 'exists')) throw e;
        // EEXIST only says "a route to this destination"; accept it only if it is the same one.
        const want = { destination, outIndex: route.outIndex, ...(gateway ? { gateway } : {}), ...(route.metric === undefined ? {} : { metric: route.metric }) };
        if ((await listRoutes(route.family)).some((x) => sameRoute(x, want))) return;
        throw new TnetError('exists', `add route "${target}": a different route to ${destination} exists`, {
          op: 'add route',
          target,
          cause: e,
        });
      }
    },

    async deleteRoute(route) {
      const { data, attrs, target } = routeMsg(route);
      // Scope NOWHERE is the kernel's wildcard for "any scope" when matching the route to delete.
      data.scope = 'NOWHERE';
      await change(r, 'delete route', target, () => socket.delRoute(data, attrs, opts), ['ESRCH', 'ENOENT', 'ENODEV']);
    },
  };
};
