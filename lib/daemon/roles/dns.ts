/**
 * DNS for containers: every DNS-enabled network's gateway answers its containers' names and
 * forwards the rest to the host's resolvers (lib/dns/service.ts). It follows the store, so
 * networks and endpoints coming and going never restart a listener.
 */
import { startDnsService } from '../../dns/service.js';
import { requireHost, type Role } from '../role.js';

export const dnsRole: Role = {
  name: 'dns',
  usesHostState: true,
  async start(d) {
    const { ctx } = requireHost(d, 'dns');
    const { resolvConf, port, upstreamPort } = d.options.dns;
    const service = await startDnsService(ctx, { resolvConf, port, upstreamPort, log: (line) => d.log(`dns: ${line}`) });
    d.log(`dns: listening on ${service.addresses().length} gateway address(es); upstreams from ${resolvConf}`);
    return { stop: () => service.stop(), status: () => ({ listening: service.addresses(), upstreamsFrom: resolvConf }) };
  },
};
