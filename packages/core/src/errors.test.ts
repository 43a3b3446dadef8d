import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, ERROR_CODES, PipewrightError, isErrorCode, isPipewrightError } from './errors.ts';
import { SPEC_PROBLEM_CODES, SPEC_PROBLEM_CODE_LIST } from './spec-problem-codes.ts';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** Table rows of one `## ` section: code -> the row's cells. */
function documentedRows(heading: string): Map<string, string[]> {
  const start = docs.indexOf(`## ${heading}`);
  expect(start, `docs/errors.md has a "## ${heading}" section`).toBeGreaterThanOrEqual(0);
  const end = docs.indexOf('\n## ', start + 1);
  const section = docs.slice(start, end === -1 ? undefined : end);
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const match = /^\|\s*`(PW_[A-Z_]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (match) rows.set(match[1] as string, (match[2] as string).split(/(?<!\\)\|/).map((cell) => cell.trim()));
  }
  return rows;
}

describe('error registry', () => {
  it('documents every API/system code in docs/errors.md with its status', () => {
    const rows = documentedRows('API and system errors');
    for (const code of ERROR_CODES) {
      expect(rows.has(code), `${code} is documented`).toBe(true);
      expect(rows.get(code)?.[0], `${code} status`).toBe(String(ERRORS[code].status));
      expect(rows.get(code)?.[1], `${code} retryable`).toBe(ERRORS[code].retryable ? 'yes' : 'no');
    }
  });

  it('documents only API/system codes that exist', () => {
    for (const code of documentedRows('API and system errors').keys()) expect(ERROR_CODES).toContain(code);
  });

  it('documents every spec problem code, and only those', () => {
    const rows = documentedRows('Spec problems');
    expect([...rows.keys()].sort()).toEqual([...SPEC_PROBLEM_CODE_LIST].sort());
  });

  it('never mentions an unknown code anywhere in the page', () => {
    const known = new Set<string>([...ERROR_CODES, ...SPEC_PROBLEM_CODE_LIST]);
    for (const [code] of docs.matchAll(/\bPW_(?:ERR|SPEC)_[A-Z_]*[A-Z]\b/g)) expect(known, code).toContain(code);
  });

  it('has the codes the API relies on, with their statuses', () => {
    expect(ERRORS.PW_ERR_VALIDATION.status).toBe(400);
    expect(ERRORS.PW_ERR_SPEC_INVALID.status).toBe(400);
    expect(ERRORS.PW_ERR_RUN_NOT_FOUND.status).toBe(404);
    expect(ERRORS.PW_ERR_ARTIFACT_NOT_FOUND.status).toBe(404);
    expect(ERRORS.PW_ERR_STAGE_NOT_FOUND.status).toBe(404);
    expect(ERRORS.PW_ERR_NOT_FOUND.status).toBe(404);
    expect(ERRORS.PW_ERR_UNSUPPORTED_MEDIA_TYPE.status).toBe(415);
    expect(ERRORS.PW_ERR_PAYLOAD_TOO_LARGE.status).toBe(413);
    expect(ERRORS.PW_ERR_BAD_CURSOR.status).toBe(400);
    expect(ERRORS.PW_ERR_NOT_READY.status).toBe(503);
    expect(ERRORS.PW_ERR_INTERNAL.status).toBe(500);
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^PW_ERR_[A-Z_]+$/);
      expect(ERRORS[code].description.length).toBeGreaterThan(10);
      expect(ERRORS[code].message.length).toBeGreaterThan(0);
    }
    for (const code of SPEC_PROBLEM_CODE_LIST) {
      expect(code).toMatch(/^PW_SPEC_[A-Z_]+$/);
      expect(SPEC_PROBLEM_CODES[code].description.length).toBeGreaterThan(10);
    }
  });
});

describe('PipewrightError', () => {
  it('carries code, status, retryability and details', () => {
    const error = new PipewrightError('PW_ERR_RUN_NOT_FOUND', 'run r1 not found', { runId: 'r1' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('PipewrightError');
    expect(error.code).toBe('PW_ERR_RUN_NOT_FOUND');
    expect(error.statusCode).toBe(404);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('run r1 not found');
    expect(error.details).toEqual({ runId: 'r1' });
    expect(isPipewrightError(error)).toBe(true);
    expect(isPipewrightError(new Error('x'))).toBe(false);
  });

  it('defaults the message from the registry and keeps a cause', () => {
    const cause = new Error('connection refused');
    const error = new PipewrightError('PW_ERR_NOT_READY', undefined, undefined, { cause });
    expect(error.message).toBe(ERRORS.PW_ERR_NOT_READY.message);
    expect(error.statusCode).toBe(503);
    expect(error.retryable).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error.details).toBeUndefined();
  });

  it('recognizes registered codes only', () => {
    expect(isErrorCode('PW_ERR_INTERNAL')).toBe(true);
    expect(isErrorCode('PW_ERR_NOPE')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(42)).toBe(false);
  });
});
