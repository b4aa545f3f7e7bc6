/**
 * What `tnet doctor` looks at, read once: the records (if the store answers), the daemon's
 * control socket, kernel modules, sysctls, the whole nftables ruleset, routes and links of the
 * host namespace, and whether each local endpoint's namespace still exists. Every read that can
 * fail is caught and becomes a fact, so doctor reports instead of stopping at the first problem.
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { queryDaemon } from '../daemon/control.js';
import { namespaceExists } from '../service/gone.js';
import { STORE_READ_TIMEOUT_MS } from '../daemon/repair-pass.js';
import { elementsOfListed, type NftElement } from '../firewall/forwards.js';
import { TABLE_FAMILY, TABLE_NAME } from '../firewall/types.js';
import type { Kernel, LinkState, RouteState } from '../kernel/types.js';
import { desiredHost } from '../reconcile/desired.js';
import { linkWithAddress } from '../service/cluster.js';
import type { ServiceContext } from '../service/context.js';
import { loadHostRecords, type HostRecords } from '../service/sync.js';

export interface ForwardChain {
  readonly family: string;
  readonly table: string;
  readonly chain: string;
  readonly policy: string;
}

export interface DoctorFacts {
  readonly stateDir: string;
  readonly records: ({ readonly ok: true } & HostRecords) | { readonly ok: false; readonly error: string };
  readonly daemon: { readonly running: boolean; readonly error?: string };
  readonly modules: { readonly vxlan: boolean; readonly nfTables: boolean };
  /** By key (net/ipv4/ip_forward …); absent when the file does not exist. */
  readonly sysctls: Readonly<Record<string, string | undefined>>;
  /** Base chains on the forward hook, in every table. */
  readonly forwardChains: readonly ForwardChain[];
  readonly tablePresent: boolean;
  readonly forwardElements: readonly NftElement[];
  readonly routes: readonly RouteState[];
  readonly links: readonly LinkState[];
  /** MTU of the link carrying this host's VTEP address, when it has joined a cluster. */
  readonly underlayMtu?: number;
  /** Ids of local endpoints whose namespace cannot be opened. */
  readonly namespacesGone: ReadonlySet<string>;
}

export const SYSCTLS = ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding', 'net/bridge/bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-ip6tables'];

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Loaded, built in, or loadable: /sys/module, then the kernel's module lists under root. */
export const moduleAvailable = (name: string, root = '/'): boolean => {
  if (existsSync(join(root, 'sys/module', name))) return true;
  const lists = ['modules.builtin', 'modules.dep'].map((f) => join(root, 'lib/modules', release(), f));
  return lists.some((file) => {
    try {
      return new RegExp(`/${name}\\.ko`).test(readFileSync(file, 'utf8'));
    } catch {
      return false;
    }
  });
};

const within = <T>(ms: number, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

const readRuleset = (kernel: Kernel): { chains: ForwardChain[]; ok: boolean } => {
  try {
    const parsed = JSON.parse(kernel.nft.run({ nftables: [{ list: { ruleset: null } }] })) as { nftables?: unknown[] };
    const chains = (parsed.nftables ?? []).flatMap((item): ForwardChain[] => {
      const c = (item as { chain?: { family?: string; table?: string; name?: string; hook?: string; policy?: string } }).chain;
      return c?.hook === 'forward' ? [{ family: c.family ?? '', table: c.table ?? '', chain: c.name ?? '', policy: c.policy ?? 'accept' }] : [];
    });
    return { chains, ok: true };
  } catch {
    return { chains: [], ok: false };
  }
};

export interface FactSources {
  readonly kernel: Kernel;
  readonly stateDir: string;
  /** The host's context, or why it could not be opened (an unreachable etcd). */
  readonly ctx: ServiceContext | { readonly error: string };
  /** Where /sys/module and /lib/modules are looked for (tests). */
  readonly modulesRoot?: string;
}

export const gatherFacts = async (src: FactSources): Promise<DoctorFacts> => {
  const { kernel } = src;
  const ctx = 'repo' in src.ctx ? src.ctx : undefined;
  const records: DoctorFacts['records'] = ctx === undefined
    ? { ok: false, error: 'error' in src.ctx ? src.ctx.error : 'no store' }
    : await within(STORE_READ_TIMEOUT_MS, loadHostRecords(ctx)).then((r) => ({ ok: true as const, ...r }), (e: unknown) => ({ ok: false as const, error: message(e) }));
  const daemon = await queryDaemon(src.stateDir).then((s) => ({ running: s !== undefined }), (e: unknown) => ({ running: false, error: message(e) }));
  const ruleset = readRuleset(kernel);
  let listed: unknown[] | undefined;
  try {
    listed = kernel.nft.listTable(TABLE_FAMILY, TABLE_NAME);
  } catch {
    listed = undefined;
  }
  const sysctls: Record<string, string | undefined> = {};
  for (const key of SYSCTLS) {
    try {
      sysctls[key] = kernel.readSysctl(kernel.hostNetns, key);
    } catch {
      sysctls[key] = undefined;
    }
  }
  const [links, routes4, routes6] = await Promise.all([kernel.host.listLinks(), kernel.host.listRoutes(4), kernel.host.listRoutes(6)]);
  const local = records.ok ? desiredHost(records.networks, records.endpoints, records.cluster).flatMap((d) => d.endpoints) : [];
  const gone = new Set(local.filter(({ objects }) => 'netns' in objects && ctx !== undefined && !namespaceExists(ctx, objects.netns)).map(({ endpoint }) => endpoint.id));
  const vtep = ctx?.identity?.get()?.vtep;
  const underlay = vtep === undefined || ctx === undefined ? undefined : await linkWithAddress(ctx, vtep);
  return {
    stateDir: src.stateDir,
    records,
    daemon,
    modules: {
      vxlan: moduleAvailable('vxlan', src.modulesRoot) || links.some((l) => l.kind === 'vxlan'),
      nfTables: ruleset.ok || moduleAvailable('nf_tables', src.modulesRoot),
    },
    sysctls,
    forwardChains: ruleset.chains,
    tablePresent: listed !== undefined,
    forwardElements: (listed ?? []).flatMap(elementsOfListed),
    routes: [...routes4, ...routes6],
    links,
    ...(underlay === undefined ? {} : { underlayMtu: underlay.mtu }),
    namespacesGone: gone,
  };
};
