/**
 * The CNI_* environment of one plugin call, typed. Pure: the caller passes process.env. Every
 * problem is a CniError with code 4 (invalid environment) naming the variable, as the spec asks.
 */
import { isTnetError } from '../errors.js';
import { validateIfname } from '../model/names.js';
import { CNI_CODES, CniError } from './error-codes.js';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'] as const;
export type CniCommand = (typeof COMMANDS)[number];

export interface CniEnv {
  readonly command: CniCommand;
  readonly containerId?: string;
  /** Absolute path of the container's netns; absent on DEL when the runtime no longer has one. */
  readonly netns?: string;
  readonly ifname?: string;
  readonly args: ReadonlyMap<string, string>;
}

/** Which variables each command cannot do without (SPEC.md, "Parameters"). */
const REQUIRED: Record<CniCommand, ReadonlyArray<'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME'>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  STATUS: [],
  GC: [],
  VERSION: [],
};

// SPEC.md: "Must start with an alphanumeric character, optionally followed by any combination of
// one or more alphanumeric characters, underscore, dot or hyphen."
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Runtimes use 64 characters (76 with containerd's namespace); the id is kept in every endpoint record. */
export const MAX_CONTAINER_ID = 256;

const invalid = (variable: string, problem: string): CniError => new CniError(CNI_CODES.invalidEnv, `${variable}: ${problem}`);

export const parseCommand = (env: Readonly<Record<string, string | undefined>>): CniCommand => {
  const raw = env['CNI_COMMAND'];
  if (raw === undefined || raw === '') throw invalid('CNI_COMMAND', `is required; one of ${COMMANDS.join(', ')}`);
  const command = COMMANDS.find((c) => c === raw);
  if (command === undefined) throw invalid('CNI_COMMAND', `${JSON.stringify(raw)} is not a CNI command; one of ${COMMANDS.join(', ')}`);
  return command;
};

/** "IgnoreUnknown=1;IP=10.1.0.5;K8S_POD_NAME=x" -> map; a pair without '=' is refused. */
export const parseCniArgs = (raw: string | undefined): Map<string, string> => {
  const out = new Map<string, string>();
  if (raw === undefined || raw.trim() === '') return out;
  for (const pair of raw.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalid('CNI_ARGS', `${JSON.stringify(pair)} is not KEY=VALUE`);
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
};

export const parseEnv = (env: Readonly<Record<string, string | undefined>>): CniEnv => {
  const command = parseCommand(env);
  // These take no container: libcni's config validation sends VERSION with CNI_NETNS=dummy,
  // so variables they do not use must not be judged.
  if (REQUIRED[command].length === 0) return { command, args: new Map() };
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  for (const name of REQUIRED[command]) {
    if (get(name) === undefined) throw invalid(name, `is required for ${command}`);
  }
  const containerId = get('CNI_CONTAINERID');
  if (containerId !== undefined && containerId.length > MAX_CONTAINER_ID) {
    throw invalid('CNI_CONTAINERID', `has ${containerId.length} characters; at most ${MAX_CONTAINER_ID} are allowed`);
  }
  if (containerId !== undefined && !CONTAINER_ID.test(containerId)) {
    throw invalid('CNI_CONTAINERID', `${JSON.stringify(containerId)} is not allowed; use letters, digits, '_', '.' and '-', starting with a letter or digit`);
  }
  const netns = get('CNI_NETNS');
  if (netns !== undefined && !netns.startsWith('/')) throw invalid('CNI_NETNS', `${JSON.stringify(netns)} is not an absolute path`);
  const ifname = get('CNI_IFNAME');
  if (ifname !== undefined) {
    try {
      validateIfname(ifname, 'CNI_IFNAME');
    } catch (e) {
      if (isTnetError(e)) throw new CniError(CNI_CODES.invalidEnv, e.message);
      throw e;
    }
  }
  return {
    command,
    ...(containerId === undefined ? {} : { containerId }),
    ...(netns === undefined ? {} : { netns }),
    ...(ifname === undefined ? {} : { ifname }),
    args: parseCniArgs(env['CNI_ARGS']),
  };
};
