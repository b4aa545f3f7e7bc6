/**
 * Does the store agree with the kernel? The checks a crash test runs after the retry: no record
 * left half-done, a full reconcile pass would change nothing (no drift, nothing of ours that no
 * record explains), every address reservation belongs to a recorded endpoint and the other way
 * round, no address sits on two interfaces, every port-forward element belongs to a recorded
 * endpoint, and a new endpoint gets an address nobody has. The kernel side is also read with
 * `ip` and `nft`, so the verdict does not rest on tnet's own planner alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { openApp } from '../../lib/app.js';
import { isOurResolvConf } from '../../lib/dns/resolv-conf.js';
import { describeAction } from '../../lib/reconcile/actions.js';
import { ownerAlias } from '../../lib/model/names.js';
import { loadHostRecords, syncHost } from '../../lib/service/sync.js';
import type { LabHost } from './lab-host.js';
import { listTestNetns, listTestNetnsEtc } from './netns.js';
import { sh, tryRun } from './sh.js';

const fail = (what: string, detail: unknown): never => {
  throw new Error(`${what}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
};

interface IpAddr { readonly ifname: string; readonly addr_info: ReadonlyArray<{ readonly local: string; readonly scope: string }> }

/** Global addresses per namespace and interface, as `ip -j addr` lists them. */
const globalAddresses = (namespaces: readonly string[]): Array<{ where: string; address: string }> =>
  namespaces.flatMap((ns) =>
    (JSON.parse(sh('ip', '-j', '-n', ns, 'addr', 'show')) as IpAddr[]).flatMap((l) =>
      l.addr_info.filter((a) => a.scope === 'global').map((a) => ({ where: `${ns}/${l.ifname}`, address: a.local })),
    ),
  );

const noAddressTwice = (lab: LabHost): void => {
  const seen = new Map<string, string>();
  for (const { where, address } of globalAddresses(listTestNetns(lab.prefix))) {
    const other = seen.get(address);
    if (other !== undefined) fail(`address ${address} is on two interfaces`, `${other} and ${where}`);
    seen.set(address, where);
  }
};

/** The owner comments of every port-forward element in our table. */
const forwardOwners = (lab: LabHost): string[] => {
  const listed = tryRun('ip', 'netns', 'exec', lab.ns, 'nft', '-j', 'list', 'table', 'inet', 'tnet');
  if (listed.status !== 0) return [];
  const items = (JSON.parse(listed.stdout) as { nftables: Array<{ map?: { elem?: unknown[] } }> }).nftables;
  return items.flatMap((i) => i.map?.elem ?? []).flatMap((e) => {
    const comment = (e as { elem?: { comment?: string } }).elem?.comment;
    return comment === undefined ? [] : [comment];
  });
};

export const assertConverged = async (lab: LabHost): Promise<void> => {
  const app = await openApp({ stateDir: lab.stateDir, hostNetns: lab.ns, ...(lab.store === undefined ? {} : { storeUrl: lab.store }) });
  try {
    const { ctx } = app;
    const records = await loadHostRecords(ctx);
    const pending = [
      ...records.networks.filter((n) => n.phase !== undefined).map((n) => `network ${n.name} ${n.phase}`),
      ...records.endpoints.filter((e) => e.phase !== undefined || e.releasing !== undefined).map((e) => `endpoint ${e.netns} ${e.phase ?? 'releasing ports'}`),
    ];
    if (pending.length > 0) fail('records left half-done', pending);
    const plan = await syncHost(ctx, { scope: 'all', dryRun: true }, records);
    if (plan.problems.length > 0) fail('a full pass finds problems', plan.problems);
    if (plan.actions.length > 0) fail('a full pass would still change', plan.actions.map(describeAction));
    const reserved = (await ctx.repo.store.list('tnet/addresses/')).map((v) => v.key.slice('tnet/addresses/'.length)).sort();
    const held = records.endpoints.flatMap((e) => [e.ipv4, e.ipv6].flatMap((a) => (a === undefined ? [] : [`${e.network}/${a}`]))).sort();
    if (JSON.stringify(reserved) !== JSON.stringify(held)) fail('reservations and endpoints differ', { reserved, held });
    const owners = new Set(records.endpoints.flatMap((e) => {
      const n = records.networks.find((x) => x.name === e.network);
      return n === undefined ? [] : [ownerAlias(n.id, e.id)];
    }));
    const orphans = forwardOwners(lab).filter((o) => !owners.has(o));
    if (orphans.length > 0) fail('port forwards outlive their endpoints', orphans);
    // A full pass would rewrite a wrong file of a recorded namespace; one no record explains is a leak.
    const named = new Set(records.endpoints.filter((e) => e.owner.kind === 'cli').map((e) => e.netns.replace('/run/netns/', '')));
    const strayFiles = listTestNetnsEtc(lab.prefix).filter((n) => {
      const file = `/etc/netns/${n}/resolv.conf`;
      return existsSync(file) && isOurResolvConf(readFileSync(file, 'utf8')) && !named.has(n);
    });
    if (strayFiles.length > 0) fail('resolv.conf files outlive their endpoints', strayFiles);
  } finally {
    await app.close();
  }
  noAddressTwice(lab);
  await freshEndpointGetsFreeAddress(lab);
};

/**
 * On every addressed network, a new namespace gets an address no interface has; then it leaves.
 * A network that is full (a test filled it on purpose) has nothing to give.
 */
const freshEndpointGetsFreeAddress = async (lab: LabHost): Promise<void> => {
  const networks = JSON.parse(await lab.ok('ls', '--json')) as Array<{ name: string; driver: string }>;
  for (const n of networks.filter((x) => x.driver === 'bridge')) {
    const ns = lab.container(`fresh-${n.name}`.slice(0, 12));
    const r = await lab.tnet('connect', n.name, '--netns', ns);
    if (r.code !== 0 && /no free IPv. address left/.test(r.err)) continue;
    if (r.code !== 0) fail(`connect of a new namespace to ${n.name} failed`, r.err);
    noAddressTwice(lab);
    await lab.ok('disconnect', n.name, '--netns', ns);
  }
};
