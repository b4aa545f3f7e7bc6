/**
 * Store addresses as users write them (--store, TNET_STORE): `local:`, `local:/dir`, `/dir`, or
 * `etcd://host[:port][,host[:port]...][/prefix]`. Parsing is pure; opening is in index.ts.
 */
import { TnetError } from '../errors.js';

export type StoreAddress =
  | { readonly kind: 'local'; readonly dir?: string }
  | { readonly kind: 'etcd'; readonly endpoints: readonly string[]; readonly prefix?: string };

const ETCD_DEFAULT_PORT = 2379;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$/;
const FORMS = 'local:, local:/dir, /dir or etcd://host[:port][,host[:port]...][/prefix]';

export function parseStoreUrl(url: string): StoreAddress {
  const bad = (why: string): TnetError =>
    new TnetError('invalidInput', `store address ${JSON.stringify(url)} is not valid: ${why} (expected ${FORMS})`, {
      op: 'parseStoreUrl',
      target: url,
    });

  if (url === 'local:') return { kind: 'local' };
  const dir = url.startsWith('local:') ? url.slice('local:'.length) : url.startsWith('/') ? url : undefined;
  if (dir !== undefined) {
    // A relative dir would depend on the cwd, which CNI runtimes do not define.
    if (!dir.startsWith('/')) throw bad('a local state dir must be an absolute path');
    return { kind: 'local', dir };
  }

  if (!url.startsWith('etcd://')) throw bad(`unknown scheme ${JSON.stringify(url.split(':')[0])}`);
  const rest = url.slice('etcd://'.length);
  const slash = rest.indexOf('/');
  const hostList = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash);
  if (hostList === '') throw bad('no etcd host given');
  const endpoints = hostList.split(',').map((hostPort) => {
    const m = /^(.*?)(?::(\d+))?$/.exec(hostPort);
    const host = m?.[1] ?? '';
    const port = m?.[2] === undefined ? ETCD_DEFAULT_PORT : Number(m[2]);
    if (!HOST.test(host)) throw bad(`${JSON.stringify(hostPort)} is not a host name, IPv4 address or [IPv6] address`);
    if (port < 1 || port > 65535) throw bad(`port ${port} of ${JSON.stringify(hostPort)} is not in 1-65535`);
    return `http://${host}:${port}`;
  });
  return prefix.length > 1 ? { kind: 'etcd', endpoints, prefix } : { kind: 'etcd', endpoints };
}
