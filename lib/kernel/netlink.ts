/**
 * A NetlinkSession: one rtnetlink socket created inside the target netns (in a withNetns window),
 * then used asynchronously from the main thread for the session's whole life.
 */
import { addrOps } from './netlink-addrs.js';
import { linkOps } from './netlink-links.js';
import { overlayOps } from './netlink-overlay.js';
import { withNetns } from './netns.js';
import { netlinkModule, serialize } from './rtnl.js';
import type { KernelHooks, NetlinkSession, NetnsHandle } from './types.js';

export const openNetlinkSession = (netns: NetnsHandle, hooks: KernelHooks = {}): NetlinkSession => {
  const nl = netlinkModule();
  const socket = withNetns(netns.fd, () => nl.createRtNetlink());
  // Without a listener an asynchronous socket error would be thrown at the process; requests
  // already fail on their own (error reply or timeout), so there is nothing more to do here.
  socket.socket.on('error', () => undefined);
  const r = { nl, socket, exclusive: serialize(), beforeChange: hooks.beforeChange ?? (() => undefined) };
  let open = true;
  return {
    ...linkOps(r),
    ...addrOps(r),
    ...overlayOps(r),
    close: () => {
      if (open) socket.socket.close();
      open = false;
    },
  };
};
