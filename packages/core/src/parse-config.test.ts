import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, parseConfig } from './parse-config.ts';

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  REDIS_URL: z.string().url(),
});

describe('parseConfig', () => {
  it('parses with defaults and coercion', () => {
    expect(parseConfig(schema, { REDIS_URL: 'redis://h:6379', PORT: '8080' })).toEqual({ PORT: 8080, REDIS_URL: 'redis://h:6379' });
    expect(parseConfig(schema, { REDIS_URL: 'redis://h:6379' }).PORT).toBe(3000);
  });

  it('names every bad variable in one error', () => {
    try {
      parseConfig(schema, { PORT: 'eighty' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const variables = (error as ConfigError).problems.map((p) => p.variable).sort();
      expect(variables).toEqual(['PORT', 'REDIS_URL']);
      expect((error as Error).message).toMatch(/PORT: .*number/i);
    }
  });
});
