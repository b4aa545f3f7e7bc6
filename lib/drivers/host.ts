/** The host driver: the endpoint is the host's own network stack; tnet creates nothing. */
import type { Driver } from './types.js';

export const hostDriver: Driver = {
  kind: 'host',
  allowsSeparateNetns: false,
  hasIpam: false,
  network: () => ({ sysctls: [] }),
  endpoint: () => ({ kind: 'shareHost' }),
};
