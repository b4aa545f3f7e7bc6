/**
 * The local store's journal: the commits since its last snapshot, one line each, appended. A
 * line is JSON and so holds no raw newline; a line without its newline is what a crash in the
 * middle of an append leaves, never read and cut off by the next commit. Each line names its
 * revision, which must follow the one before, so a journal replayed over the wrong snapshot is
 * refused instead of silently merged.
 */
import { isRecord } from '../model/fields.js';
import { applyCommits, isRevision, type Commit, type Keyspace } from './keyspace.js';
import type { WriteOp } from './types.js';

export const journalLine = ({ revision, ops }: Commit): string => `${JSON.stringify({ revision, ops })}\n`;

export interface Replayed {
  readonly keyspace: Keyspace;
  /** Bytes of whole lines read: where the next read continues, and where the next append goes. */
  readonly consumed: number;
}

/**
 * Applies the whole lines of text, which starts at byte offset of the journal, to keyspace.
 * Throws a plain Error naming the bad line by its byte offset in the journal.
 */
export const replayJournal = (keyspace: Keyspace, text: Buffer, offset: number): Replayed => {
  const commits: Commit[] = [];
  let start = 0;
  for (let end = text.indexOf(0x0a); end !== -1; start = end + 1, end = text.indexOf(0x0a, start)) {
    const revision = keyspace.revision + commits.length + 1;
    const ops = parseLine(text.subarray(start, end).toString('utf8'), revision);
    if (ops === undefined) throw new Error(`line at byte ${offset + start} is not a commit of revision ${revision}`);
    commits.push({ revision, ops });
  }
  return { keyspace: applyCommits(keyspace, commits), consumed: start };
};

const parseLine = (line: string, revision: number): readonly WriteOp[] | undefined => {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(doc) || !isRevision(doc['revision']) || doc['revision'] !== revision || !Array.isArray(doc['ops'])) return undefined;
  const ops: unknown[] = doc['ops'];
  return ops.every(isWriteOp) ? ops : undefined;
};

const isWriteOp = (v: unknown): v is WriteOp =>
  isRecord(v) && typeof v['key'] === 'string' && (v['op'] === 'delete' || (v['op'] === 'put' && typeof v['value'] === 'string'));
