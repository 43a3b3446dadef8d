import { describe, expect, it } from 'vitest';
import { formatSpecPath } from './format-spec-path.ts';

describe('formatSpecPath', () => {
  it('formats indices, names and odd keys', () => {
    expect(formatSpecPath([])).toBe('');
    expect(formatSpecPath(['stages', 2, 'uses'])).toBe('stages[2].uses');
    expect(formatSpecPath(['stages', 0, 'needs', 1])).toBe('stages[0].needs[1]');
    expect(formatSpecPath(['stages', 1, 'with', 'test-size'])).toBe('stages[1].with.test-size');
    expect(formatSpecPath(['params', 'a.b'])).toBe('params["a.b"]');
    expect(formatSpecPath(['with', 'has space', 0])).toBe('with["has space"][0]');
    expect(formatSpecPath([0])).toBe('[0]');
    expect(formatSpecPath([Symbol('s')])).toBe('["Symbol(s)"]');
  });
});
