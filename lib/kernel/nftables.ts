/**
 * libnftables through koffi, one context per netns. Every call is synchronous, so each one runs
 * inside a withNetns window: the context's netlink socket is bound to the netns it was opened in,
 * and running inside the window also covers libnftables reopening that socket after an error.
 */
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';
import { TnetError } from '../errors.js';
import { nftError } from './errno.js';
import { withNetns } from './netns.js';
import { openGenerationReader, type GenerationReader } from './nft-generation.js';
import type { NetnsHandle, NftSession } from './types.js';

const NFT_CTX_OUTPUT_HANDLE = 1 << 3;
const NFT_CTX_OUTPUT_JSON = 1 << 4;
const NFT_CTX_OUTPUT_TERSE = 1 << 11;
const FLAGS = NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE;

type Ctx = unknown; // an opaque struct nft_ctx *

interface Libnft {
  ctxNew: (flags: number) => Ctx | null;
  ctxFree: (ctx: Ctx) => void;
  setOutputFlags: (ctx: Ctx, flags: number) => void;
  bufferOutput: (ctx: Ctx) => number;
  bufferError: (ctx: Ctx) => number;
  runCmd: (ctx: Ctx, buf: string) => number;
  outputBuffer: (ctx: Ctx) => string | null;
  errorBuffer: (ctx: Ctx) => string | null;
}

let lib: Libnft | undefined;

const load = (): Libnft => {
  if (lib) return lib;
  const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
  let so: Koffi.LibraryHandle;
  try {
    so = koffi.load('libnftables.so.1');
  } catch (e) {
    throw new TnetError('unsupported', 'load libnftables.so.1: not installed (Debian/Ubuntu: apt install libnftables1)', {
      op: 'load libnftables',
      target: 'libnftables.so.1',
      cause: e,
    });
  }
  koffi.opaque('nft_ctx');
  lib = {
    ctxNew: so.func('nft_ctx *nft_ctx_new(uint32_t flags)'),
    ctxFree: so.func('void nft_ctx_free(nft_ctx *ctx)'),
    setOutputFlags: so.func('void nft_ctx_output_set_flags(nft_ctx *ctx, unsigned int flags)'),
    bufferOutput: so.func('int nft_ctx_buffer_output(nft_ctx *ctx)'),
    bufferError: so.func('int nft_ctx_buffer_error(nft_ctx *ctx)'),
    runCmd: so.func('int nft_run_cmd_from_buffer(nft_ctx *ctx, const char *buf)'),
    outputBuffer: so.func('const char *nft_ctx_get_output_buffer(nft_ctx *ctx)'),
    errorBuffer: so.func('const char *nft_ctx_get_error_buffer(nft_ctx *ctx)'),
  };
  return lib;
};

/** What a failing batch was about, for the error message (nft's own text shows the exact spot). */
const describe = (commands: string | { nftables: unknown[] }): string =>
  typeof commands === 'string'
    ? (commands.trim().split('\n')[0] ?? '').slice(0, 80)
    : `JSON batch of ${commands.nftables.length} command(s)`;

export const openNftSession = (netns: NetnsHandle): NftSession => {
  const nft = load();
  const ctx = withNetns(netns.fd, () => nft.ctxNew(0));
  if (ctx === null) throw new TnetError('kernel', `open nftables in "${netns.path}": nft_ctx_new failed`, { op: 'open nftables', target: netns.path });
  nft.setOutputFlags(ctx, FLAGS);
  nft.bufferOutput(ctx);
  nft.bufferError(ctx);
  let open = true;

  const run = (commands: string | { nftables: unknown[] }): string => {
    if (!open) throw new TnetError('internal', 'nft run: session is closed', { op: 'nft run', target: netns.path });
    const text = typeof commands === 'string' ? commands : JSON.stringify(commands);
    const { rc, out, err } = withNetns(netns.fd, () => {
      const rc = nft.runCmd(ctx, text);
      // Reading a buffer also rewinds it for the next command, so read both every time.
      return { rc, out: nft.outputBuffer(ctx) ?? '', err: nft.errorBuffer(ctx) ?? '' };
    });
    if (rc !== 0) throw nftError(err || out || `nft exited with ${rc}`, 'nft', describe(commands));
    return out;
  };

  let generation: GenerationReader;
  try {
    generation = openGenerationReader(netns);
  } catch (e) {
    nft.ctxFree(ctx);
    throw e;
  }
  /**
   * What each list command printed, at the generation it was taken at: the daemon looks at the
   * same table after every call and event, and it rarely changed since. Kept as text, so every
   * caller gets objects of its own.
   */
  const listings = new Map<string, { readonly generation: number; readonly out: string }>();
  const listOutput = (command: Record<string, unknown>, terse: boolean): string => {
    const key = `${terse ? 'terse ' : ''}${JSON.stringify(command)}`;
    const before = generation.read();
    const kept = listings.get(key);
    if (before !== undefined && kept?.generation === before) return kept.out;
    listings.delete(key);
    try {
      if (terse) nft.setOutputFlags(ctx, FLAGS | NFT_CTX_OUTPUT_TERSE);
      const out = run({ nftables: [{ list: command }] });
      // A transaction committed while listing may or may not show in it: not kept then.
      if (before !== undefined && generation.read() === before) listings.set(key, { generation: before, out });
      return out;
    } finally {
      if (terse) nft.setOutputFlags(ctx, FLAGS);
    }
  };

  /** Runs a list command (JSON input, so names can never be read as more nft syntax); undefined when absent. */
  const list = (command: Record<string, unknown>, terse = false): unknown[] | undefined => {
    let out: string;
    try {
      out = listOutput(command, terse);
    } catch (e) {
      if (e instanceof TnetError && e.kind === 'notFound') return undefined;
      throw e;
    }
    const parsed = JSON.parse(out) as { nftables?: unknown[] };
    return (parsed.nftables ?? []).filter((i) => !(typeof i === 'object' && i !== null && 'metainfo' in i));
  };

  /** The item's own family/table (a table item names itself), to pick one table out of a ruleset. */
  const inTable = (family: string, name: string) => (item: unknown): boolean => {
    const body = Object.values(item as Record<string, { family?: string; table?: string; name?: string }>)[0];
    return body?.family === family && (body.table ?? ('table' in (item as object) ? body.name : undefined)) === name;
  };

  return {
    run,
    listTable(family, name, options) {
      if (options?.elements !== false) return list({ table: { family, name } });
      // Measured with 10 000 map elements: `list table` costs ~500 ms and still ~170 ms when terse
      // (1.0.6 fetches the elements anyway); a terse `list ruleset` skips them and costs ~0.3 ms.
      const items = (list({ ruleset: null }, true) ?? []).filter(inTable(family, name));
      return items.some((i) => typeof i === 'object' && i !== null && 'table' in i) ? items : undefined;
    },
    listSet(family, table, name, kind) {
      return list({ [kind]: { family, table, name } });
    },
    close() {
      if (open) nft.ctxFree(ctx);
      generation.close();
      open = false;
    },
  };
};
