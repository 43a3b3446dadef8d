import { z } from 'zod';
import { parseConfig } from '@pipewright/core';

/** Settings of the all-in-one process. Every one has a default: `npm start` needs none. */
export const standaloneEnvSchema = z.object({
  /** A Postgres URL; unset = the embedded PGlite database under PIPEWRIGHT_HOME. */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  /** When nothing listens here and this is a local address, a `redis-server` is started. */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  PIPEWRIGHT_HOME: z.string().min(1).default('.pipewright'),
  QUEUE_PREFIX: z.string().min(1).default('{pw}'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  TF_BACKEND: z.enum(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type StandaloneEnv = z.infer<typeof standaloneEnvSchema>;
export const loadStandaloneEnv = (source: Record<string, string | undefined> = process.env): StandaloneEnv =>
  parseConfig(standaloneEnvSchema, source);
