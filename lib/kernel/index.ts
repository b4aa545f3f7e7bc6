/**
 * The kernel layer's entry point: one Kernel per "host" netns (the real host, or a lab/test
 * netns standing in for one). The nft context is opened on first use, so commands that never
 * touch the firewall neither load libnftables nor need it installed.
 */
import { openNetlinkSession } from './netlink.js';
import { currentNetns, openNetns } from './netns.js';
import { netnsEtcFiles } from './netns-etc.js';
import { openNftSession } from './nftables.js';
import { readSysctl, writeSysctl } from './sysctl.js';
import type { Kernel, KernelHooks, NetlinkSession, NftSession } from './types.js';

export { createNamedNetns, currentNetns, deleteNamedNetns, openNetns, withNetns } from './netns.js';
export { openNetlinkSession } from './netlink.js';
export { openNftSession } from './nftables.js';
export type * from './types.js';

/** hostNetnsRef: path, /run/netns name or PID of the host netns; default: this process's netns. */
export const createKernel = (hostNetnsRef?: string, hooks: KernelHooks = {}): Kernel => {
  const hostNetns = hostNetnsRef === undefined ? currentNetns() : openNetns(hostNetnsRef);
  const beforeChange = hooks.beforeChange ?? (() => undefined);
  let host: NetlinkSession;
  try {
    host = openNetlinkSession(hostNetns, hooks);
  } catch (e) {
    hostNetns.close();
    throw e;
  }
  let nft: NftSession | undefined;
  return {
    hostNetns,
    host,
    get nft() {
      if (nft) return nft;
      const session = openNftSession(hostNetns);
      return (nft = {
        ...session,
        run: (commands) => {
          beforeChange('nft transaction');
          return session.run(commands);
        },
      });
    },
    sessionIn: (netns) => openNetlinkSession(netns, hooks),
    openNetns,
    readSysctl,
    writeSysctl: (netns, key, value) => {
      beforeChange(`write sysctl ${key}`);
      writeSysctl(netns, key, value);
    },
    etc: netnsEtcFiles(undefined, beforeChange),
    close() {
      host.close();
      nft?.close();
      hostNetns.close();
    },
  };
};
