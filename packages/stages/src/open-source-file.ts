import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { resolveInside } from './resolve-inside.ts';

/**
 * Opens a data file an ingest stage reads, refusing paths that leave `baseDir`, and hashes the
 * bytes as they stream past: the output records the source's digest, which tells two reads of
 * the same path apart.
 */
export async function openSourceFile(baseDir: string, path: string): Promise<{ source: ReadStream; sha256(): string }> {
  const file = await resolveInside(baseDir, path);
  const hash = createHash('sha256');
  const source = createReadStream(file);
  source.on('data', (chunk) => hash.update(chunk));
  return { source, sha256: () => hash.digest('hex') };
}
