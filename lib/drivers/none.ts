/** The none driver: the container is isolated; its namespace gets only a loopback that is up. */
import type { Driver } from './types.js';

export const noneDriver: Driver = {
  kind: 'none',
  allowsSeparateNetns: true,
  hasIpam: false,
  network: () => ({ sysctls: [] }),
  endpoint: (_network, endpoint) => ({ kind: 'loopbackOnly', netns: endpoint.netns }),
};
