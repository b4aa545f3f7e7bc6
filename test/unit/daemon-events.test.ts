/**
 * The daemon's pure parts: which kernel event asks for which pass (event-targets.ts over a
 * drift index), how piled-up requests become one scope, back-off, nftables message parsing and
 * the control socket's protocol.
 */
import { describe, expect, it } from 'vitest';
import { createBackoff, FLAP_LIMIT, MAX_DELAY_MS } from '../../lib/daemon/backoff.js';
import { parseControlRequest } from '../../lib/daemon/control-protocol.js';
import { elementsOfGet } from '../../lib/daemon/forward-check.js';
import { driftIndex } from '../../lib/daemon/drift-index.js';
import { containerEventTargets, hostEventTargets, linkNames, MAX_ENDPOINTS_PER_BATCH, nftBatchTargets, type LinkNames } from '../../lib/daemon/event-targets.js';
import { addTarget, emptyWork, keysOf, scopeOf, splitWork } from '../../lib/daemon/targets.js';
import type { RtnlEvent } from '../../lib/kernel/event-types.js';
import { parseNftMessage } from '../../lib/kernel/nft-event-parse.js';
import { netlinkModule } from '../../lib/kernel/rtnl.js';
import { parseRtnlEvent } from '../../lib/kernel/rtnl-event-parse.js';
import { bridgeNameFor, hostVethNameFor, ownerAlias } from '../../lib/model/names.js';
import type { Endpoint } from '../../lib/model/types.js';
import { endpoint, network } from './fixtures.js';

const web = network({ name: 'web' });
const c1 = endpoint(web, '/run/netns/c1', '10.1.0.2');
const c2: Endpoint = { ...endpoint(web, '/run/netns/c2', '10.1.0.3'), owner: { kind: 'cni', containerId: 'abc' } };
const index = driftIndex({ networks: [web], endpoints: [c1, c2], cluster: { peers: new Map(), mode: 'store' } });
const bridge = bridgeNameFor(web);
const veth = hostVethNameFor(c1.id);

const link = (over: Partial<Extract<RtnlEvent, { kind: 'link' }>> & { name: string; index: number }): RtnlEvent => ({
  kind: 'link', op: 'new', up: true, mtu: 1500, mac: '02:00:00:00:00:01', ...over,
});

/** The host as a pass leaves it: bridge #10, c1's veth #11 on it. */
const hostNames = (): LinkNames => linkNames([[1, 'lo'], [10, bridge], [11, veth]]);

describe('host events', () => {
  it('ask for nothing when they show our objects as wanted (the echo of a repair or a connect)', () => {
    const names = hostNames();
    expect(hostEventTargets(index, names, link({ index: 10, name: bridge, alias: ownerAlias(web.id) }))).toEqual([]);
    expect(hostEventTargets(index, names, link({ index: 11, name: veth, alias: ownerAlias(web.id, c1.id), masterIndex: 10 }))).toEqual([]);
    expect(hostEventTargets(index, names, { kind: 'address', op: 'new', index: 10, family: 4, address: '10.1.0.1', prefixLength: 24 })).toEqual([]);
    expect(hostEventTargets(index, names, { kind: 'netconf', family: 4, index: -1, forwarding: true })).toEqual([]);
    expect(hostEventTargets(index, names, link({ index: 7, name: 'eth9' }))).toEqual([]);
  });

  it('ask for the network part when a bridge goes (its ports too), changes, or loses its address, or forwarding goes off', () => {
    const names = hostNames();
    const withPorts = [{ kind: 'networks' }, { kind: 'hostSide', id: c1.id }, { kind: 'hostSide', id: c2.id }];
    expect(hostEventTargets(index, names, link({ index: 10, name: bridge, op: 'del' }))).toEqual(withPorts);
    expect(hostEventTargets(index, names, link({ index: 10, name: bridge, alias: ownerAlias(web.id), mtu: 1400 }))).toEqual(withPorts);
    expect(hostEventTargets(index, names, { kind: 'address', op: 'del', index: 10, family: 4, address: '10.1.0.1', prefixLength: 24 })).toEqual([{ kind: 'networks' }]);
    expect(hostEventTargets(index, names, { kind: 'address', op: 'new', index: 10, family: 4, address: '10.1.0.99', prefixLength: 24 })).toEqual([{ kind: 'networks' }]);
    expect(hostEventTargets(index, names, { kind: 'netconf', family: 4, index: -1, forwarding: false })).toEqual([{ kind: 'networks' }]);
    // IPv6 forwarding is not wanted by an IPv4-only network; a per-device change is not ip_forward.
    expect(hostEventTargets(index, names, { kind: 'netconf', family: 6, index: -1, forwarding: false })).toEqual([]);
    expect(hostEventTargets(index, names, { kind: 'netconf', family: 4, index: 10, forwarding: false })).toEqual([]);
  });

  it('ask for just the host side of an endpoint whose veth goes, is down, or left its bridge', () => {
    const names = hostNames();
    const hostSide = [{ kind: 'hostSide', id: c1.id }];
    expect(hostEventTargets(index, names, link({ index: 11, name: veth, op: 'del' }))).toEqual(hostSide);
    expect(hostEventTargets(index, names, link({ index: 11, name: veth, alias: ownerAlias(web.id, c1.id) }))).toEqual(hostSide);
    expect(hostEventTargets(index, names, link({ index: 11, name: veth, alias: ownerAlias(web.id, c1.id), masterIndex: 10, up: false }))).toEqual(hostSide);
  });

  it('follow a link of ours renamed away, and look at an unknown link that carries our tag', () => {
    const names = hostNames();
    const renamed = link({ index: 11, name: 'renamed', alias: ownerAlias(web.id, c1.id), masterIndex: 10 });
    const previous = names.track(renamed);
    expect(hostEventTargets(index, names, renamed, previous)).toEqual([{ kind: 'hostSide', id: c1.id }]);
    expect(hostEventTargets(index, names, link({ index: 20, name: 'tnv0123456789ab', alias: 'tnet:0123456789ab:0123456789ab' }))).toEqual([{ kind: 'goneLink', name: 'tnv0123456789ab' }]);
  });
});

describe('container events', () => {
  const names: LinkNames = linkNames([[1, 'lo'], [2, 'eth0']]);
  const inC1 = (e: RtnlEvent) => containerEventTargets(index, '/run/netns/c1', names, e);
  const c1Only = [{ kind: 'endpoint', id: c1.id }];

  it('ask for nothing when our interface is as wanted, or for what is not ours', () => {
    expect(inC1(link({ index: 2, name: 'eth0', mac: c1.mac }))).toEqual([]);
    expect(inC1({ kind: 'address', op: 'new', index: 2, family: 4, address: '10.1.0.2', prefixLength: 24 })).toEqual([]);
    expect(inC1({ kind: 'address', op: 'new', index: 2, family: 6, address: 'fe80::1', prefixLength: 64 })).toEqual([]);
    expect(inC1({ kind: 'route', op: 'new', family: 4, destination: '0.0.0.0/0' })).toEqual([]);
    expect(inC1(link({ index: 5, name: 'dummy0' }))).toEqual([]);
  });

  it('ask for that endpoint when its address, route, MTU, state, or interface goes wrong', () => {
    expect(inC1({ kind: 'address', op: 'del', index: 2, family: 4, address: '10.1.0.2', prefixLength: 24 })).toEqual(c1Only);
    expect(inC1({ kind: 'address', op: 'new', index: 2, family: 4, address: '10.9.9.9', prefixLength: 8 })).toEqual(c1Only);
    expect(inC1({ kind: 'route', op: 'del', family: 4, destination: '0.0.0.0/0' })).toEqual(c1Only);
    expect(inC1(link({ index: 2, name: 'eth0', mac: c1.mac, mtu: 9000 }))).toEqual(c1Only);
    expect(inC1(link({ index: 2, name: 'eth0', mac: c1.mac, up: false }))).toEqual(c1Only);
    expect(inC1(link({ index: 2, name: 'eth0', op: 'del' }))).toEqual(c1Only);
    expect(inC1(link({ index: 1, name: 'lo', up: false }))).toEqual(c1Only);
  });
});

describe('nftables transactions', () => {
  const event = (over: Partial<{ object: 'rule' | 'element' | 'table'; op: 'new' | 'del'; table: string; family: number; comments: string[] }> = {}) => ({
    op: 'del' as const, object: 'rule' as const, family: 1, table: 'tnet', comments: [], ...over,
  });

  it('of this process are never drift; of others, on another table, neither', () => {
    expect(nftBatchTargets(index, { pid: 42, events: [event()] }, 42)).toEqual([]);
    expect(nftBatchTargets(index, { pid: 7, events: [event({ table: 'filter', family: 2 })] }, 42)).toEqual([]);
  });

  it('touching table inet tnet ask for the network part, plus the owners of the elements they touched', () => {
    expect(nftBatchTargets(index, { pid: 7, events: [event()] }, 42)).toEqual([{ kind: 'networks' }]);
    const element = event({ object: 'element', comments: [ownerAlias(web.id, c2.id), 'not ours'] });
    expect(nftBatchTargets(index, { pid: 7, events: [element] }, 42)).toEqual([{ kind: 'networks' }, { kind: 'endpoint', id: c2.id }]);
  });

  it('touching more endpoints than a scoped pass is worth ask for a full pass', () => {
    const many = Array.from({ length: MAX_ENDPOINTS_PER_BATCH + 1 }, (_, i) => endpoint(web, `/run/netns/m${i}`, `10.1.0.${i + 10}`));
    const big = driftIndex({ networks: [web], endpoints: many, cluster: { peers: new Map(), mode: 'store' } });
    const comments = many.map((e) => ownerAlias(web.id, e.id));
    expect(nftBatchTargets(big, { pid: 7, events: [event({ object: 'element', comments })] }, 42)).toEqual([{ kind: 'full' }]);
  });
});

describe('rtnetlink messages', () => {
  it('that are truncated, garbage or of types tnet does not follow are dropped without throwing', () => {
    const nl = netlinkModule();
    expect(parseRtnlEvent(nl, 16, Buffer.from([1, 2, 3]))).toBeUndefined();
    expect(parseRtnlEvent(nl, 20, Buffer.alloc(40, 0xff))).toBeUndefined();
    expect(parseRtnlEvent(nl, 80, Buffer.from([2, 0, 0, 0, 200, 0]))).toBeUndefined();
    expect(parseRtnlEvent(nl, 3, Buffer.alloc(16))).toBeUndefined();
  });

  it('read netconf (forwarding of `all`), which netlink@0.3 does not know', () => {
    const data = Buffer.alloc(20);
    data[0] = 2; // AF_INET
    data.writeUInt16LE(8, 4); data.writeUInt16LE(1, 6); data.writeInt32LE(-1, 8);
    data.writeUInt16LE(8, 12); data.writeUInt16LE(2, 14); data.writeUInt32LE(0, 16);
    expect(parseRtnlEvent(netlinkModule(), 80, data)).toEqual({ kind: 'netconf', family: 4, index: -1, forwarding: false });
  });
});

describe('nftables messages', () => {
  /** Netlink attributes (little-endian TLVs, padded to 4). */
  const attr = (type: number, value: Buffer): Buffer => {
    const len = 4 + value.length;
    const out = Buffer.alloc((len + 3) & ~3);
    out.writeUInt16LE(len, 0);
    out.writeUInt16LE(type, 2);
    value.copy(out, 4);
    return out;
  };
  const str = (s: string): Buffer => Buffer.from(`${s}\0`);
  const nfgen = (family: number): Buffer => Buffer.from([family, 0, 0, 0]);
  const NFT = 10 << 8;

  it('read an element deletion with its set and comment', () => {
    const comment = 'tnet:0123456789ab:ba9876543210';
    const userdata = Buffer.concat([Buffer.from([0, comment.length + 1]), str(comment)]);
    const elem = attr(1, Buffer.concat([attr(1, attr(1, Buffer.from([6, 0, 0, 0]))), attr(6, userdata)]));
    const data = Buffer.concat([nfgen(1), attr(1, str('tnet')), attr(2, str('fwd4_any_port')), attr(3, elem)]);
    expect(parseNftMessage(NFT | 14, data)).toEqual({
      kind: 'event', event: { op: 'del', object: 'element', family: 1, table: 'tnet', set: 'fwd4_any_port', comments: [comment] },
    });
  });

  it('read the generation message with the committing pid (big-endian)', () => {
    const pid = Buffer.alloc(4);
    pid.writeUInt32BE(12345);
    expect(parseNftMessage(NFT | 15, Buffer.concat([nfgen(0), attr(1, Buffer.alloc(4)), attr(2, pid), attr(3, str('nft'))]))).toEqual({ kind: 'generation', pid: 12345 });
  });

  it('drop what is not nftables, or truncated, without throwing', () => {
    expect(parseNftMessage(16, Buffer.alloc(20))).toBeUndefined();
    expect(parseNftMessage(NFT | 6, Buffer.from([1, 0]))).toBeUndefined();
    expect(parseNftMessage(NFT | 6, Buffer.concat([nfgen(1), Buffer.from([200, 0, 1, 0, 9])]))).toBeUndefined();
  });
});

describe('pending work', () => {
  it('merges into one scope: endpoints, host sides not already covered, gone links', () => {
    const w = emptyWork();
    addTarget(w, { kind: 'networks' }, 'a');
    addTarget(w, { kind: 'endpoint', id: 'e1' }, 'b');
    addTarget(w, { kind: 'hostSide', id: 'e1' }, 'c');
    addTarget(w, { kind: 'hostSide', id: 'e2' }, 'd');
    addTarget(w, { kind: 'goneLink', name: 'tnvx' }, 'e');
    expect(scopeOf(w)).toEqual({ endpoints: new Set(['e1']), hostSides: new Set(['e2']), goneLinks: ['tnvx'] });
    expect(keysOf(w)).toEqual(['networks', 'endpoint:e1', 'endpoint:e2', 'link:tnvx']);
    addTarget(w, { kind: 'full' }, 'f');
    expect(scopeOf(w)).toBe('all');
    // A full pass that must wait does not hold up the scoped work that came with it.
    const { now, later } = splitWork(w, (k) => k !== 'full');
    expect(keysOf(later)).toEqual(['full']);
    expect(scopeOf(now)).toEqual({ endpoints: new Set(['e1']), hostSides: new Set(['e2']), goneLinks: ['tnvx'] });
  });

  it('splits what may run now from what waits', () => {
    const w = emptyWork();
    addTarget(w, { kind: 'endpoint', id: 'e1' }, 'x');
    addTarget(w, { kind: 'hostSide', id: 'e2' }, 'x');
    const { now, later } = splitWork(w, (k) => k !== 'endpoint:e2');
    expect(scopeOf(now)).toEqual({ endpoints: new Set(['e1']), hostSides: new Set(), goneLinks: [] });
    expect(keysOf(later)).toEqual(['endpoint:e2']);
  });
});

describe('back-off', () => {
  it('doubles each wait up to a minute, and a success ends it', () => {
    const b = createBackoff();
    expect(b.failed('k', 'no', 0)).toBe(1_000);
    expect(b.blocked('k', 500)).toBe(true);
    expect(b.blocked('k', 1_000)).toBe(false);
    expect(b.failed('k', 'no', 1_000)).toBe(2_000);
    for (let i = 0; i < 10; i++) b.failed('k', 'no', 0);
    expect(b.failed('k', 'no', 0)).toBe(MAX_DELAY_MS);
    expect(b.succeeded('k', true, 0)).toBe('recovered');
    expect(b.blocked('k', 0)).toBe(false);
  });

  it('treats a repair undone again and again as a failure', () => {
    const b = createBackoff();
    let r = 'ok';
    for (let i = 0; i <= FLAP_LIMIT; i++) r = b.succeeded('k', true, i * 10);
    expect(r).toBe('flapping');
    expect(b.blocked('k', FLAP_LIMIT * 10 + 1)).toBe(true);
    expect(b.waiting(FLAP_LIMIT * 10)[0]).toMatchObject({ key: 'k', failures: 1 });
  });
});

describe('control requests', () => {
  it('accept status and refuse anything else with a reason', () => {
    expect(parseControlRequest(Buffer.from('{"op":"status"}'))).toEqual({ ok: true, request: { op: 'status' } });
    expect(parseControlRequest(Buffer.from('{"op":"rm -rf"}'))).toMatchObject({ ok: false, error: expect.stringContaining('unknown op') });
    expect(parseControlRequest(Buffer.from('\u0000garbage'))).toMatchObject({ ok: false, error: expect.stringContaining('not JSON') });
    expect(parseControlRequest(Buffer.alloc(10_000, 'a'))).toMatchObject({ ok: false, error: expect.stringContaining('too long') });
  });
});

describe('get element answers', () => {
  it('are read in nft syntax (libnftables 1.0.6) as in JSON', () => {
    const text = 'table inet tnet {\n\tmap fwd4_port {\n\t\ttype inet_proto . ipv4_addr . inet_service : inet_service\n\t\telements = { tcp . 10.0.0.1 . 8080 comment "tnet:0123456789ab:ba9876543210" : 80 }\n\t}\n}\n';
    expect(elementsOfGet('fwd4_port', text)).toEqual([{ map: 'fwd4_port', key: ['tcp', '10.0.0.1', 8080], value: 80, comment: 'tnet:0123456789ab:ba9876543210' }]);
    const json = JSON.stringify({ nftables: [{ map: { name: 'fwd4_any_addr', elem: [[{ elem: { val: { concat: ['udp', 53] }, comment: 'tnet:x' } }, '10.0.0.2']] } }] });
    expect(elementsOfGet('fwd4_any_addr', json)).toEqual([{ map: 'fwd4_any_addr', key: ['udp', 53], value: '10.0.0.2', comment: 'tnet:x' }]);
    expect(elementsOfGet('m', 'nothing here')).toEqual([]);
  });
});
