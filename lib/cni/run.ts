/**
 * One CNI plugin call: env + stdin in, stdout + exit code out (the caller prints and exits).
 * Cold start matters (a runtime execs the plugin for every VERSION, ADD and DEL), so this module
 * imports only the pure protocol parts; the store, kernel and service layer are loaded only by
 * the commands that use them, and VERSION never loads them.
 */
import { CNI_CODES, CniError, cniErrorBody } from './error-codes.js';
import { parseEnv, type CniEnv } from './env.js';
import type { HostDefaults } from '../host-config.js';
import type { NetConf } from './netconf.js';
import { withStepPoints } from '../step-points.js';
import { compareVersions, LATEST_VERSION, MIN_VERSION_FOR, SUPPORTED_VERSIONS } from './versions.js';

export interface CniOutcome {
  readonly stdout: string;
  readonly exitCode: number;
}

/** Where state and host come from: the netconf first, then the environment, then /etc/tnet (lib/host-config.ts). */
export const appOptionsOf = (conf: NetConf, env: Readonly<Record<string, string | undefined>>, defaults: HostDefaults) => {
  const storeUrl = conf.store ?? defaults.store;
  const hostNetns = conf.hostNetns ?? env['TNET_HOST_NETNS'];
  return {
    stateDir: conf.stateDir ?? defaults.stateDir,
    ...(storeUrl === undefined || storeUrl === '' ? {} : { storeUrl }),
    ...(hostNetns === undefined || hostNetns === '' ? {} : { hostNetns }),
    ...withStepPoints(env),
  };
};

const execute = async (cni: CniEnv, conf: NetConf, env: Readonly<Record<string, string | undefined>>): Promise<string> => {
  const [{ openApp }, { hostDefaults }, attach, maintenance, { attachRequestOf }, { encodeResult }] = await Promise.all([
    import('../app.js'),
    import('../host-config.js'),
    import('./attach.js'),
    import('./maintenance.js'),
    import('./request.js'),
    import('./result.js'),
  ]);
  const app = await openApp(appOptionsOf(conf, env, hostDefaults(env)));
  try {
    switch (cni.command) {
      case 'ADD':
        return JSON.stringify(encodeResult(await attach.cniAdd(app.ctx, attachRequestOf(cni, conf)), conf.cniVersion));
      case 'DEL':
        await attach.cniDel(app.ctx, conf.name, cni.containerId ?? '', cni.ifname ?? '');
        return '';
      case 'CHECK':
        await attach.cniCheck(app.ctx, attachRequestOf(cni, conf));
        return '';
      case 'STATUS':
        await maintenance.cniStatus(app.ctx, conf.network);
        return '';
      case 'GC':
        await maintenance.cniGc(app.ctx, conf.name, conf.validAttachments ?? []);
        return '';
      case 'VERSION':
        return versionReply(conf.cniVersion);
    }
  } finally {
    await app.close();
  }
};

const versionReply = (cniVersion: string): string => JSON.stringify({ cniVersion, supportedVersions: SUPPORTED_VERSIONS });

/** Only the version, for VERSION and for error replies: never throws. */
const peekVersion = (stdin: string): string | undefined => {
  try {
    const v: unknown = JSON.parse(stdin);
    return typeof v === 'object' && v !== null && 'cniVersion' in v && typeof v.cniVersion === 'string' ? v.cniVersion : undefined;
  } catch {
    return undefined;
  }
};

export const runCni = async (env: Readonly<Record<string, string | undefined>>, stdin: string): Promise<CniOutcome> => {
  let version = peekVersion(stdin) ?? LATEST_VERSION;
  try {
    const cni = parseEnv(env);
    // VERSION answers whatever the config says, so a runtime can learn what to send instead.
    if (cni.command === 'VERSION') return { stdout: versionReply(version), exitCode: 0 };
    const { decodeStdin, parseNetConf } = await import('./netconf.js'); // the model parsers: not for VERSION
    const conf = parseNetConf(decodeStdin(stdin));
    version = conf.cniVersion;
    const min = MIN_VERSION_FOR[cni.command];
    if (min !== undefined && compareVersions(conf.cniVersion, min) < 0) {
      throw new CniError(CNI_CODES.incompatibleVersion, `cniVersion: ${cni.command} needs ${min} or later; the config says ${conf.cniVersion}`);
    }
    return { stdout: await execute(cni, conf, env), exitCode: 0 };
  } catch (e) {
    return { stdout: JSON.stringify(cniErrorBody(e, version)), exitCode: 1 };
  }
};
