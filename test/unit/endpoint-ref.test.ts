import { describe, expect, it } from 'vitest';
import { endpointRefOf, selectByContainer } from '../../lib/model/endpoint-ref.js';
import type { Endpoint } from '../../lib/model/types.js';
import { expectError } from './expect-error.js';

const endpoint = (id: string, owner: Endpoint['owner']): Endpoint => ({
  id, network: 'web', netns: `/run/netns/${id}`, ifname: 'eth0', mac: '02:00:00:00:00:01', aliases: [], routeMetric: 100, owner,
});
const endpoints = [
  endpoint('a', { kind: 'cni', containerId: 'abc123' }),
  endpoint('b', { kind: 'cni', containerId: 'abc124' }),
  endpoint('c', { kind: 'cni', containerId: 'abc' }),
  endpoint('d', { kind: 'cli' }),
];

describe('naming an attachment by container id', () => {
  it('takes an exact id over longer ids it prefixes, and a unique prefix', () => {
    expect(selectByContainer(endpoints, 'abc', 'web').id).toBe('c');
    expect(selectByContainer(endpoints, 'abc124', 'web').id).toBe('b');
    expect(selectByContainer(endpoints, 'abc123', 'web').id).toBe('a');
  });

  it('refuses an ambiguous prefix listing the candidates, and an id nobody attached', () => {
    expectError(() => selectByContainer(endpoints, 'abc1', 'web'), 'invalidInput', /container abc1 is ambiguous on network web: it starts abc123, abc124/);
    expectError(() => selectByContainer(endpoints, 'zzz', 'web'), 'notFound', /no container zzz is attached to network web/);
  });

  it('never matches what the CLI attached (no container id)', () => {
    expectError(() => selectByContainer([endpoint('d', { kind: 'cli' })], 'd', 'web'), 'notFound', /no container d/);
  });
});

describe('--netns or --container', () => {
  it('takes exactly one', () => {
    expect(endpointRefOf('c1', undefined)).toEqual({ netns: 'c1' });
    expect(endpointRefOf(undefined, 'abc')).toEqual({ container: 'abc' });
    expectError(() => endpointRefOf('c1', 'abc'), 'invalidInput', /either --netns or --container, not both/);
    expectError(() => endpointRefOf(undefined, undefined), 'invalidInput', /name the attachment: --netns/);
    expectError(() => endpointRefOf(undefined, ''), 'invalidInput', /name the attachment/);
  });
});
