import type { z } from 'zod';

/** A configuration value that does not fit its schema; the message names every variable. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses a process's configuration (its environment) with a schema. Services call it once at
 * boot in `src/env.ts` and exit on ConfigError, so a bad value stops the process with a message
 * naming the variable instead of failing later.
 */
export function parseConfig<S extends z.ZodType>(schema: S, source: Record<string, string | undefined>): z.output<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((i) => ({ variable: i.path.join('.') || '(env)', message: i.message })));
}
