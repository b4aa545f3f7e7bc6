/** What `tnet inspect` shows: the record, its endpoints, and the kernel objects behind them. */
import { driverFor } from '../drivers/registry.js';
import type { LinkState } from '../kernel/types.js';
import type { Endpoint, Network } from '../model/types.js';
import { handedOver } from '../reconcile/handover.js';
import type { ServiceContext } from './context.js';
import { goneAdvice, namespaceExists } from './gone.js';

export interface LinkReport {
  readonly name: string;
  readonly present: boolean;
  readonly up?: boolean;
  readonly mtu?: number;
}

export interface NetworkReport {
  readonly network: Network;
  /** problem: what is wrong that no repair can fix (the endpoint's namespace is gone). */
  readonly endpoints: ReadonlyArray<Endpoint & { readonly hostLink?: LinkReport; readonly problem?: string }>;
  readonly kernel: { readonly bridge?: LinkReport };
}

const linkReport = (links: readonly LinkState[], name: string): LinkReport => {
  const l = links.find((x) => x.name === name);
  return l ? { name, present: true, up: l.up, mtu: l.mtu } : { name, present: false };
};

export const inspectNetworks = async (ctx: ServiceContext, names: readonly string[]): Promise<NetworkReport[]> => {
  const networks = await Promise.all(names.map((n) => ctx.repo.requireNetwork(n)));
  const links = await ctx.kernel.host.listLinks();
  return Promise.all(
    networks.map(async (network) => {
      const driver = driverFor(network.driver);
      const objects = driver.network(network);
      const endpoints = (await ctx.repo.listEndpoints(network.name)).map((e) => {
        const eo = handedOver(driver.endpoint(network, e), e);
        const problem = 'netns' in eo && !namespaceExists(ctx, eo.netns) ? { problem: goneAdvice(e) } : {};
        return 'hostVeth' in eo ? { ...e, hostLink: linkReport(links, eo.hostVeth.name), ...problem } : { ...e, ...problem };
      });
      return { network, endpoints, kernel: objects.bridge ? { bridge: linkReport(links, objects.bridge.name) } : {} };
    }),
  );
};
