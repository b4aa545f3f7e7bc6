/**
 * Replaces a file so that after a crash at any point the path holds either the whole old
 * content or the whole new content. Callers must serialise writers to the same path (the fixed
 * temp name relies on it, and lets the next writer overwrite a temp file a crash left behind).
 */
import type { BigIntStats } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export const tempPathOf = (path: string): string => `${path}.tmp`;

/**
 * Resolves with the new file's stat: the rename keeps its inode, size and mtime. beforeRename
 * gets that stat once the data is durable and before the file takes the path's place.
 */
export async function writeFileAtomic(path: string, data: string, beforeRename?: (written: BigIntStats) => void): Promise<BigIntStats> {
  const temp = tempPathOf(path);
  const file = await open(temp, 'w', 0o600);
  let written: BigIntStats;
  try {
    await file.writeFile(data);
    // Without this the rename can reach the disk before the data, leaving an empty file.
    await file.sync();
    written = await file.stat({ bigint: true });
  } finally {
    await file.close();
  }
  beforeRename?.(written);
  await rename(temp, path);
  // Makes the rename itself durable.
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return written;
}
