/**
 * What to do with one query, decided from the zone alone: answer it from tnet's names, refuse it,
 * or hand it to the forwarder. Pure and synchronous, so local names never wait on anything.
 */
import type { Answer } from 'dns-packet';
import { encodeReply, maxResponseBytes, RCODE, type Query, type Rcode, type Transport } from './message.js';
import { addressOfReverseName, isReverseName } from './reverse.js';
import type { Asker, Zone, ZoneEndpoint } from './zone.js';

/** Names change as containers come and go: nobody should keep an answer. */
const LOCAL_TTL = 0;

export type Decision =
  | { readonly kind: 'reply'; readonly response: Buffer }
  /** Not a tnet name, and the asker may reach the outside: forward it. */
  | { readonly kind: 'forward' }
  /**
   * A tnet name nobody holds, as far as this zone knows: the caller refreshes the zone and asks
   * again with `final`, so a name connected a moment ago is found.
   */
  | { readonly kind: 'miss' };

const recordsFor = (q: Query, holders: readonly ZoneEndpoint[]): Answer[] => {
  const name = q.question.name;
  const asked: string = q.question.type; // 'ANY' (255) is missing from dns-packet's type names
  const want = (type: 'A' | 'AAAA'): boolean => asked === type || asked === 'ANY';
  const a = want('A') ? holders.flatMap((h) => (h.ipv4 === undefined ? [] : [h.ipv4])) : [];
  const aaaa = want('AAAA') ? holders.flatMap((h) => (h.ipv6 === undefined ? [] : [h.ipv6])) : [];
  return [
    ...[...new Set(a)].map((data): Answer => ({ type: 'A', name, ttl: LOCAL_TTL, class: 'IN', data })),
    ...[...new Set(aaaa)].map((data): Answer => ({ type: 'AAAA', name, ttl: LOCAL_TTL, class: 'IN', data })),
  ];
};

export const decide = (zone: Zone, q: Query, asker: Asker, transport: Transport, final: boolean): Decision => {
  const limit = maxResponseBytes(q, transport);
  const reply = (rcode: Rcode, answers: readonly Answer[] = []): Decision => ({
    kind: 'reply',
    response: encodeReply(q, { rcode, answers, authoritative: true, recursionAvailable: asker.forwards }, limit),
  });
  const notOurs = (): Decision => (asker.forwards ? { kind: 'forward' } : reply(RCODE.nxDomain));
  const missing = (): Decision => (final ? reply(RCODE.nxDomain) : { kind: 'miss' });

  if (isReverseName(q.question.name)) {
    const address = addressOfReverseName(q.question.name);
    if (address === undefined) return notOurs();
    const { holder, authoritative } = zone.reverse(asker, address);
    if (holder?.name === undefined) return authoritative ? missing() : notOurs();
    const asked: string = q.question.type;
    if (asked !== 'PTR' && asked !== 'ANY') return reply(RCODE.noError);
    return reply(RCODE.noError, [{ type: 'PTR', name: q.question.name, ttl: LOCAL_TTL, class: 'IN', data: `${holder.name}.${holder.network}` }]);
  }
  const { holders, authoritative } = zone.lookup(asker, q.question.name);
  if (holders.length > 0) return reply(RCODE.noError, recordsFor(q, holders)); // no record of that type: NODATA
  return authoritative ? missing() : notOurs();
};
