import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { StageError } from '@pipewright/core';

/**
 * Resolves `path` against `baseDir` and refuses one that leaves it (`..`, an absolute path
 * elsewhere, a symlink pointing out), so a submitted pipeline cannot read arbitrary files of the
 * worker. Returns the real path of an existing file.
 */
export async function resolveInside(baseDir: string, path: string): Promise<string> {
  const base = await realpath(resolve(baseDir)).catch((error: unknown) => {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `data directory ${baseDir} does not exist`, undefined, error);
  });
  const escapes = (p: string): boolean => {
    const rel = relative(base, p);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel);
  };
  const candidate = resolve(base, path);
  if (escapes(candidate)) {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `path ${path} leaves the data directory`, { path });
  }
  const real = await realpath(candidate).catch((error: unknown) => {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `no file at ${path}`, { path }, error);
  });
  // Checked again after resolving symlinks: a link inside may point outside.
  if (escapes(real)) {
    throw StageError.nonRetryable('PW_ERR_BAD_PARAMS', `path ${path} leaves the data directory`, { path });
  }
  return real;
}
