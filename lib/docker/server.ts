/**
 * The Docker plugin socket: HTTP on a unix socket where dockerd discovers plugins
 * (/run/docker/plugins/tnet.sock makes the driver `tnet`). Each request is decoded (wire.ts) and
 * answered by the network driver (driver.ts) or the IPAM driver (ipam.ts); a failure becomes the
 * error reply Docker shows the user, never a crash. One log line per call.
 */
import { unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { TnetError, toTnetError } from '../errors.js';
import type { ServiceContext } from '../service/context.js';
import { claimSocketPath, listenOn } from '../unix-socket.js';
import { driverCall, type DriverContext } from './driver.js';
import { ADDRESS_SPACES, releaseAddress, releasePool, requestAddress, requestPool } from './ipam.js';
import { nameLearner } from './names.js';
import { startPlacer } from './placer.js';
import { dockerRecords } from './records.js';
import { recoverDocker, takeOverGateways } from './recover.js';
import { apiOf, decodeCall, errorReply, type DockerCall } from './wire.js';

/** Bigger bodies are no call of Docker's (a CreateEndpoint with a thousand ports is ~100 KiB). */
const MAX_BODY = 1 << 20;
const CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';
/** How long Docker takes to retry the calls that died with the daemon and carry on (recover.ts). */
const TAKE_OVER_AFTER_MS = 5_000;

export interface DockerPluginOptions {
  readonly socketPath: string;
  /** dockerd's API socket, to learn the names of the networks it makes. */
  readonly dockerSocket: string;
  readonly ctx: ServiceContext;
  readonly log: (line: string) => void;
}

export interface DockerPlugin {
  stop(): Promise<void>;
  status(): Readonly<Record<string, unknown>>;
}

const answer = async (d: DriverContext, call: DockerCall): Promise<Record<string, unknown>> => {
  switch (call.kind) {
    case 'activate':
      return { Implements: ['NetworkDriver', 'IpamDriver'] };
    case 'ipamCapabilities':
      return { RequiresMACAddress: false, RequiresRequestReplay: false };
    case 'addressSpaces':
      return { LocalDefaultAddressSpace: ADDRESS_SPACES.local, GlobalDefaultAddressSpace: ADDRESS_SPACES.global };
    case 'requestPool':
      return requestPool(d.ctx, d.records, call);
    case 'releasePool':
      await releasePool(d.ctx, d.records, call.poolId);
      return {};
    case 'requestAddress':
      return requestAddress(d.ctx, d.records, call);
    case 'releaseAddress':
      await releaseAddress(d.records, call);
      return {};
    default:
      return driverCall(d, call);
  }
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new TnetError('invalidInput', `the request body is over ${MAX_BODY} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/** The short ids a call names, for the log. */
const idsOf = (call: DockerCall | undefined): string =>
  call === undefined ? '' : ['networkId', 'endpointId', 'poolId'].map((k) => (call as Record<string, unknown>)[k]).filter((v): v is string => typeof v === 'string').map((v) => ` ${v.slice(0, 12)}`).join('');

export const startDockerPlugin = async (o: DockerPluginOptions): Promise<DockerPlugin> => {
  const learner = nameLearner(o.ctx, o.dockerSocket, o.log);
  const finishing = new Set<Promise<unknown>>();
  const finishLater = (what: string, work: Promise<unknown>): void => {
    const tracked = work
      .catch((e: unknown) => o.log(`${what}: ${e instanceof Error ? e.message : String(e)}; the next pass finishes it`))
      .finally(() => finishing.delete(tracked));
    finishing.add(tracked);
  };
  const d: DriverContext = { ctx: o.ctx, records: dockerRecords(o.ctx.repo.store), created: (id) => learner.learn(id), finishLater };
  await recoverDocker(d, learner, o.dockerSocket, o.log);
  // Docker sends a call that died with the daemon once more (about 1 s later, refused) and then
  // carries on with what followed it; what it leaves undone after that is the daemon's to finish.
  const takeOver = setTimeout(() => {
    const what = 'publishing the ports of gateways Docker moved while the daemon was down';
    finishLater(what, takeOverGateways(d, o.log).catch((e: unknown) => o.log(`${what}: ${e instanceof Error ? e.message : String(e)}`)));
  }, TAKE_OVER_AFTER_MS);
  const placer = startPlacer(o.ctx, o.log);
  await placer.refresh();
  let calls = 0;
  let failures = 0;
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const path = req.url ?? '/';
    const api = apiOf(path);
    let call: DockerCall | undefined;
    let status = 200;
    let reply: Record<string, unknown>;
    try {
      if (req.method !== 'POST') throw new TnetError('invalidInput', `${req.method ?? '?'} ${path}: plugin calls are POSTs`);
      call = decodeCall(path, await readBody(req));
      reply = await answer(d, call);
      if (api === 'NetworkDriver') await placer.refresh();
    } catch (e) {
      const err = toTnetError(e, path.slice(1));
      if (err.kind === 'notFound' && call === undefined) status = 404;
      failures++;
      reply = errorReply(api, err.message);
    }
    calls++;
    res.writeHead(status, { 'Content-Type': CONTENT_TYPE });
    res.end(JSON.stringify(reply));
    const outcome = 'Err' in reply || 'Error' in reply ? `error: ${String(reply['Err'] ?? reply['Error'])}` : 'ok';
    o.log(`${path.slice(1)}${idsOf(call)}: ${outcome} in ${(performance.now() - started).toFixed(1)} ms`);
  };
  const server = createServer((req, res) => void serve(req, res));
  try {
    await claimSocketPath(o.socketPath, '--docker-socket');
    await listenOn(server, { path: o.socketPath });
  } catch (e) {
    clearTimeout(takeOver);
    learner.stop();
    placer.stop();
    throw e;
  }
  o.log(`listening on ${o.socketPath}`);
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        clearTimeout(takeOver);
        learner.stop();
        placer.stop();
        // dockerd finds no plugin from the moment the path is gone (and waits for one to come back).
        unlinkSync(o.socketPath);
        server.close(() => void Promise.all(finishing).then(() => resolve()));
        server.closeIdleConnections();
      }),
    status: () => ({ socket: o.socketPath, calls, failures }),
  };
};
