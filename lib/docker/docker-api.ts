/**
 * A few reads of dockerd's own API (its unix socket, `--docker-host`): the plugin protocol never
 * says what the user named a network, and Docker's API does once the network exists; nor does it
 * say, after tnet restarted, what Docker forgot meanwhile (recover.ts), which the API shows too.
 */
import { request } from 'node:http';

const TIMEOUT_MS = 2_000;

/** `unix:///var/run/docker.sock` or a plain path -> the socket path. */
export const dockerSocketOf = (host: string): string => host.replace(/^unix:\/\//, '');

/** dockerd's answer to a GET: its status and JSON; undefined when it does not answer (not running). */
const dockerAnswer = (socketPath: string, path: string): Promise<{ status: number; json: unknown } | undefined> =>
  new Promise((resolve) => {
    const req = request({ socketPath, path, method: 'GET', timeout: TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(body) });
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });

/** The JSON dockerd answers a GET with, undefined when it does not answer or has no such thing. */
export const dockerGet = async (socketPath: string, path: string): Promise<unknown> => {
  const answer = await dockerAnswer(socketPath, path);
  return answer?.status === 200 ? answer.json : undefined;
};

export interface DockerNetworkView {
  /** The subnets of its IPAM config. */
  readonly subnets: readonly string[];
  /** Its endpoints (with a container or not yet), by id, with their addresses (no prefix). */
  readonly endpoints: ReadonlyMap<string, readonly string[]>;
}

const asObject = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const viewOf = (inspected: unknown): DockerNetworkView => {
  const ipam = asObject(asObject(inspected)['IPAM'])['Config'];
  const subnets = (Array.isArray(ipam) ? ipam : []).flatMap((c) => text(asObject(c)['Subnet']) ?? []);
  const endpoints = new Map(Object.values(asObject(asObject(inspected)['Containers'])).flatMap((c) => {
    const e = asObject(c);
    const id = text(e['EndpointID']);
    const addresses = [e['IPv4Address'], e['IPv6Address']].flatMap((a) => text(a)?.split('/')[0] ?? []);
    return id === undefined ? [] : [[id, addresses] as const];
  }));
  return { subnets, endpoints };
};

/** Every network dockerd has, by id; undefined when dockerd does not answer (not running). */
export const dockerNetworks = async (socketPath: string): Promise<ReadonlyMap<string, DockerNetworkView> | undefined> => {
  const list = await dockerAnswer(socketPath, '/networks');
  if (list?.status !== 200 || !Array.isArray(list.json)) return undefined;
  const views = new Map<string, DockerNetworkView>();
  for (const n of list.json) {
    const id = text(asObject(n)['Id']);
    if (id === undefined) continue;
    // The list leaves out the endpoints; a network removed meanwhile is simply not there.
    const inspected = await dockerAnswer(socketPath, `/networks/${id}`);
    if (inspected === undefined) return undefined;
    if (inspected.status === 200) views.set(id, viewOf(inspected.json));
  }
  return views;
};

/** The name Docker gave a network, by its id. */
export const dockerNetworkName = async (socketPath: string, networkId: string): Promise<string | undefined> => {
  const info = await dockerGet(socketPath, `/networks/${networkId}`);
  const name = typeof info === 'object' && info !== null ? (info as { Name?: unknown }).Name : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
};
