import { PipewrightError } from '@pipewright/core';

/** Keyset cursor over (created_at desc, id desc): stable under inserts, O(limit) per page. */
export interface RunCursor {
  createdAt: Date;
  id: string;
}

export function encodeRunCursor(c: RunCursor): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.id}`, 'utf8').toString('base64url');
}

// Exactly what encodeRunCursor writes: anything looser reaches Postgres, which rejects a
// non-UUID id or a date outside its range (it has no year 0) with an error: a 500, not a 400.
const CURSOR_AT = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CURSOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeRunCursor(text: string): RunCursor {
  const [at, id, ...rest] = Buffer.from(text, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (rest.length > 0 || !at || !CURSOR_AT.test(at) || !id || !CURSOR_ID.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new PipewrightError('PW_ERR_BAD_CURSOR', 'cursor is not one this API returned', { field: 'cursor' });
  }
  return { createdAt, id };
}
