import { PipewrightError } from '@pipewright/core';

/** Keyset cursor over (created_at desc, id desc): stable under inserts, O(limit) per page. */
export interface RunCursor {
  createdAt: Date;
  id: string;
}

export function encodeRunCursor(c: RunCursor): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.id}`, 'utf8').toString('base64url');
}

export function decodeRunCursor(text: string): RunCursor {
  const [at, id] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new PipewrightError('PW_ERR_BAD_CURSOR', 'cursor is not one this API returned', { field: 'cursor' });
  }
  return { createdAt, id };
}
