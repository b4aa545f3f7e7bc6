/**
 * A few reads of dockerd's own API (its unix socket, `--docker-host`): the plugin protocol never
 * says what the user named a network, and Docker's API does once the network exists.
 */
import { request } from 'node:http';

const TIMEOUT_MS = 2_000;

/** `unix:///var/run/docker.sock` or a plain path -> the socket path. */
export const dockerSocketOf = (host: string): string => host.replace(/^unix:\/\//, '');

/** The JSON dockerd answers a GET with, undefined when it does not answer or has no such thing. */
export const dockerGet = (socketPath: string, path: string): Promise<unknown> =>
  new Promise((resolve) => {
    const req = request({ socketPath, path, method: 'GET', timeout: TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve(undefined);
        try {
          resolve(JSON.parse(body));
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });

/** The name Docker gave a network, by its id. */
export const dockerNetworkName = async (socketPath: string, networkId: string): Promise<string | undefined> => {
  const info = await dockerGet(socketPath, `/networks/${networkId}`);
  const name = typeof info === 'object' && info !== null ? (info as { Name?: unknown }).Name : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
};
