/**
 * Executes a plan's actions in order. Every object this pass creates is remembered with how to
 * remove it; if an action fails, those are removed in reverse order and the error is rethrown,
 * so a failed pass leaves the kernel as it found it (sysctls aside: they are host-wide and only
 * ever switched on, as Docker does).
 */
import { TnetError } from '../errors.js';
import { deleteTableCommands, replaceTableCommands } from '../firewall/encode.js';
import { addElementCommands, deleteElementCommands, forgetElementCommands } from '../firewall/forwards.js';
import type { Kernel, LinkState, NetlinkSession, NetnsHandle } from '../kernel/types.js';
import type { Action } from './actions.js';
import { describeAction } from './actions.js';

type Undo = () => Promise<void>;

/**
 * Links the pass observed in the host namespace: their indexes need no lookup (a bridge put back
 * with 500 ports would otherwise cost 500 lookups). Observed under the same host lock, in the
 * same pass, they are as current as a lookup at the start of the pass would be.
 */
export interface ApplyContext {
  readonly hostLinks?: readonly LinkState[];
}

/** Netlink sessions per container namespace, opened on first use within one pass. */
class Sessions {
  private readonly open = new Map<string, { handle: NetnsHandle; session: NetlinkSession }>();
  constructor(
    private readonly kernel: Kernel,
    hostLinks: readonly LinkState[] = [],
  ) {
    this.indexes.set(undefined, new Map(hostLinks.map((l) => [l.name, l.index])));
  }

  get(netns: string | undefined): NetlinkSession {
    if (netns === undefined) return this.kernel.host;
    let entry = this.open.get(netns);
    if (!entry) {
      const handle = this.kernel.openNetns(netns);
      entry = { handle, session: this.kernel.sessionIn(handle) };
      this.open.set(netns, entry);
    }
    return entry.session;
  }

  handle(netns: string): NetnsHandle {
    this.get(netns);
    const entry = this.open.get(netns);
    if (!entry) throw new TnetError('internal', `no session for ${netns}`);
    return entry.handle;
  }

  /** Link indexes by name per namespace, looked up once and kept current by this pass. */
  private readonly indexes = new Map<string | undefined, Map<string, number>>();

  async indexOf(netns: string | undefined, name: string): Promise<number | undefined> {
    let names = this.indexes.get(netns);
    if (!names) this.indexes.set(netns, (names = new Map()));
    if (!names.has(name)) {
      const link = await this.get(netns).getLink(name);
      if (link) names.set(name, link.index);
    }
    return names.get(name);
  }

  async requireIndex(netns: string | undefined, name: string): Promise<number> {
    const index = await this.indexOf(netns, name);
    if (index === undefined) throw new TnetError('notFound', `link ${name} not found${netns ? ` in ${netns}` : ''}`, { target: name });
    return index;
  }

  remember(netns: string | undefined, name: string, index: number): void {
    this.indexes.get(netns)?.set(name, index);
  }

  forget(netns: string | undefined, name: string): void {
    this.indexes.get(netns)?.delete(name);
  }

  close(): void {
    for (const { handle, session } of this.open.values()) {
      session.close();
      handle.close();
    }
    this.open.clear();
  }
}

const run = async (kernel: Kernel, s: Sessions, a: Action): Promise<Undo | undefined> => {
  switch (a.do) {
    case 'createBridge': {
      const link = await kernel.host.createBridge(a.name, { mtu: a.mtu, mac: a.mac, alias: a.alias, up: true });
      s.remember(undefined, link.name, link.index);
      return () => kernel.host.deleteLink(link.index);
    }
    case 'createVeth': {
      const masterIndex = await s.requireIndex(undefined, a.master);
      const peer = { name: a.peer.name, netns: s.handle(a.netns), mtu: a.peer.mtu, mac: a.peer.mac };
      const link = await kernel.host.createVethPair(a.name, { mtu: a.mtu, alias: a.alias, masterIndex, noIpv6LinkLocal: true, up: true, hairpin: true }, peer);
      s.remember(undefined, link.name, link.index);
      return () => kernel.host.deleteLink(link.index);
    }
    case 'setLink': {
      const { master, ...rest } = a.change;
      const masterIndex = master === undefined ? {} : { masterIndex: await s.requireIndex(undefined, master) };
      await s.get(a.netns).setLink(await s.requireIndex(a.netns, a.link), { ...rest, ...masterIndex });
      return undefined;
    }
    case 'tagLink':
      await kernel.host.setLink(await s.requireIndex(undefined, a.link), { alias: a.alias, ...(a.noIpv6LinkLocal ? { noIpv6LinkLocal: true } : {}) });
      return undefined;
    case 'addAddress': {
      const session = s.get(a.netns);
      const index = await s.requireIndex(a.netns, a.link);
      const { family, address, prefixLength } = a.address;
      await session.addAddress(index, family, address, prefixLength);
      return () => session.deleteAddress(index, family, address, prefixLength);
    }
    case 'deleteAddress': {
      const { family, address, prefixLength } = a.address;
      await s.get(a.netns).deleteAddress(await s.requireIndex(a.netns, a.link), family, address, prefixLength);
      return undefined;
    }
    case 'addRoute': {
      const session = s.get(a.netns);
      const route = { ...a.route, outIndex: await s.requireIndex(a.netns, a.link) };
      await session.addRoute(route);
      return () => session.deleteRoute(route);
    }
    case 'deleteLink': {
      const index = await s.indexOf(a.netns, a.link);
      if (index !== undefined) await s.get(a.netns).deleteLink(index);
      s.forget(a.netns, a.link);
      return undefined;
    }
    case 'createVxlan': {
      const masterIndex = await s.requireIndex(undefined, a.master);
      const link = await kernel.host.createVxlan(a.name, { mtu: a.mtu, alias: a.alias, masterIndex, vni: a.vni, local: a.local, port: a.port, proxy: a.proxy, up: true });
      s.remember(undefined, link.name, link.index);
      return () => kernel.host.deleteLink(link.index);
    }
    case 'addFdb': {
      const index = await s.requireIndex(undefined, a.link);
      await kernel.host.addFdb(index, a.mac, a.dst);
      return () => kernel.host.deleteFdb(index, a.mac, a.dst);
    }
    case 'deleteFdb':
      await kernel.host.deleteFdb(await s.requireIndex(undefined, a.link), a.mac, a.dst);
      return undefined;
    case 'addNeighbour': {
      const index = await s.requireIndex(undefined, a.link);
      await kernel.host.addNeighbour(index, a.family, a.address, a.mac);
      return () => kernel.host.deleteNeighbour(index, a.family, a.address);
    }
    case 'deleteNeighbour':
      await kernel.host.deleteNeighbour(await s.requireIndex(undefined, a.link), a.family, a.address);
      return undefined;
    case 'setSysctl':
      kernel.writeSysctl(kernel.hostNetns, a.key, a.value);
      return undefined;
    case 'replaceFirewall':
      kernel.nft.run({ nftables: [...replaceTableCommands(a.table).nftables, ...addElementCommands(a.forwards)] });
      return undefined;
    case 'updateForwards': {
      kernel.nft.run({
        nftables: [...forgetElementCommands(a.forget), ...deleteElementCommands(a.remove), ...addElementCommands(a.add)],
      });
      // Forgotten elements belonged to endpoints already released: they are not put back.
      return async () => {
        kernel.nft.run({ nftables: [...forgetElementCommands(a.add), ...addElementCommands(a.remove)] });
      };
    }
    case 'deleteFirewall':
      kernel.nft.run(deleteTableCommands());
      return undefined;
    case 'writeNetnsFile': {
      kernel.etc.write(a.namespace, a.file, a.text);
      const { previous } = a;
      return async () => (previous === undefined ? kernel.etc.remove(a.namespace, a.file) : kernel.etc.write(a.namespace, a.file, previous));
    }
    case 'removeNetnsFile':
      kernel.etc.remove(a.namespace, a.file);
      return undefined;
  }
};

export const applyActions = async (kernel: Kernel, actions: readonly Action[], context: ApplyContext = {}): Promise<void> => {
  const sessions = new Sessions(kernel, context.hostLinks);
  const undos: Undo[] = [];
  try {
    for (const action of actions) {
      let undo: Undo | undefined;
      try {
        undo = await run(kernel, sessions, action);
      } catch (e) {
        const kind = e instanceof TnetError ? e.kind : 'kernel';
        throw new TnetError(kind, `${describeAction(action)}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      if (undo) undos.push(undo);
    }
  } catch (e) {
    for (const undo of undos.reverse()) await undo().catch(() => undefined); // best effort: the original error matters
    throw e;
  } finally {
    sessions.close();
  }
};
