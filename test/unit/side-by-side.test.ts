/** Which kernel requests a pass lets go out without waiting for each other, and in which order. */
import { describe, expect, it } from 'vitest';
import type { Action } from '../../lib/reconcile/actions.js';
import { sideBySide } from '../../lib/reconcile/apply.js';
import { lanes, MAX_IN_FLIGHT } from '../../lib/kernel/rtnl.js';

const enslave = (link: string, master = 'tnbr-a'): Action => ({ do: 'setLink', link, change: { master, hairpin: true } });
const sizes = (actions: Action[]): number[] => sideBySide(actions).map((g) => g.length);

describe('sideBySide', () => {
  it('groups the re-enslaving of a bridge\'s ports, after the bridge is made and addressed', () => {
    const bridge: Action[] = [
      { do: 'createBridge', name: 'tnbr-a', mtu: 1500, mac: '02:00:00:00:00:01', alias: 'tnet:a' },
      { do: 'addAddress', link: 'tnbr-a', address: { family: 4, address: '10.0.0.1', prefixLength: 24 } },
    ];
    expect(sizes([...bridge, enslave('tnv1'), enslave('tnv2'), enslave('tnv3')])).toEqual([1, 1, 3]);
  });

  it('keeps two changes of one link, a bridge and its ports, and other namespaces apart', () => {
    expect(sizes([enslave('tnv1'), { do: 'setLink', link: 'tnv1', change: { mtu: 1400 } }])).toEqual([1, 1]);
    expect(sizes([{ do: 'setLink', link: 'tnbr-a', change: { mtu: 1400 } }, enslave('tnv1')])).toEqual([1, 1]);
    expect(sizes([enslave('tnv1'), { do: 'setLink', link: 'tnbr-a', change: { up: true } }])).toEqual([1, 1]);
    expect(sizes([{ do: 'setLink', netns: '/run/netns/x', link: 'lo', change: { up: true } }, { do: 'setLink', netns: '/run/netns/y', link: 'lo', change: { up: true } }])).toEqual([1, 1]);
  });
});

describe('lanes', () => {
  const gate = (): { promise: Promise<void>; open: () => void } => {
    let open = (): void => undefined;
    return { promise: new Promise<void>((r) => (open = r)), open };
  };

  it('lets requests overlap up to the limit, in the order asked, and a dump run alone', async () => {
    const schedule = lanes();
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const call = (name: string, dump = false): Promise<string> =>
      schedule(() => {
        started.push(name);
        const g = gate();
        gates.set(name, g);
        return g.promise.then(() => name);
      }, dump);
    const requests = Array.from({ length: MAX_IN_FLIGHT + 1 }, (_, i) => call(`r${i}`));
    const listing = call('dump', true);
    const after = call('after');
    await Promise.resolve();
    expect(started).toEqual(Array.from({ length: MAX_IN_FLIGHT }, (_, i) => `r${i}`));
    gates.get('r0')?.open();
    await requests[0];
    await new Promise((r) => setImmediate(r));
    expect(started.at(-1)).toBe(`r${MAX_IN_FLIGHT}`);
    for (let i = 1; i <= MAX_IN_FLIGHT; i++) gates.get(`r${i}`)?.open();
    await Promise.all(requests);
    await new Promise((r) => setImmediate(r));
    expect(started.at(-1)).toBe('dump'); // and not 'after' beside it
    gates.get('dump')?.open();
    await listing;
    await new Promise((r) => setImmediate(r));
    expect(started.at(-1)).toBe('after');
    gates.get('after')?.open();
    expect(await after).toBe('after');
  });

  it('a call that throws at once fails alone and frees its slot', async () => {
    const schedule = lanes();
    await expect(schedule(() => { throw new Error('no'); }, false)).rejects.toThrow('no');
    expect(await schedule(async () => 'next', true)).toBe('next');
  });
});
