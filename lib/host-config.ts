/**
 * A host's defaults for where tnet keeps its state, so the CLI, the agent and the CNI plugin a
 * runtime execs all find the cluster's store without flags: /etc/tnet/config.json (or the file
 * TNET_CONFIG names; an empty TNET_CONFIG means none), e.g. {"store": "etcd://10.0.0.1:2379"}. A flag (or a CNI
 * netconf field) wins over the environment (TNET_STORE, TNET_STATE_DIR), which wins over the file.
 */
import { readFileSync } from 'node:fs';
import { TnetError } from './errors.js';

export const DEFAULT_CONFIG_PATH = '/etc/tnet/config.json';
export const DEFAULT_STATE_DIR = '/var/lib/tnet';

export interface HostConfig {
  readonly store?: string;
  readonly stateDir?: string;
}

const FIELDS: ReadonlyArray<keyof HostConfig> = ['store', 'stateDir'];

export const parseHostConfig = (text: string, path: string): HostConfig => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new TnetError('invalidConfig', `${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TnetError('invalidConfig', `${path}: expected a JSON object such as {"store": "etcd://host:2379"}`);
  }
  const config: Record<string, string> = {};
  for (const [key, field] of Object.entries(value)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw new TnetError('invalidConfig', `${path}: unknown setting "${key}"; allowed: ${FIELDS.join(', ')}`);
    }
    if (typeof field !== 'string' || field === '') {
      throw new TnetError('invalidConfig', `${path}: "${key}" must be a non-empty string, got ${JSON.stringify(field)}`);
    }
    config[key] = field;
  }
  return config;
};

const readHostConfig = (path: string): HostConfig => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new TnetError('invalidConfig', `cannot read ${path}: ${(e as Error).message}`);
  }
  return parseHostConfig(text, path);
};

export interface HostDefaults {
  readonly stateDir: string;
  readonly store?: string;
}

export const hostDefaults = (env: Readonly<Record<string, string | undefined>>): HostDefaults => {
  const path = env['TNET_CONFIG'] ?? DEFAULT_CONFIG_PATH;
  const file = path === '' ? {} : readHostConfig(path);
  const store = env['TNET_STORE'] ?? file.store;
  return { stateDir: env['TNET_STATE_DIR'] ?? file.stateDir ?? DEFAULT_STATE_DIR, ...(store === undefined ? {} : { store }) };
};
