import { z } from 'zod';
import { parseConfig } from '@pipewright/core';

/** Every setting of the API process; nothing else reads process.env. */
export const apiEnvSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().min(1).default('{pw}'),
  ARTIFACT_ROOT: z.string().min(1).default('.pipewright/artifacts'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Largest accepted request body (a pipeline spec). */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(5 * 1024 * 1024),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ApiEnv = z.infer<typeof apiEnvSchema>;
export const loadApiEnv = (source: Record<string, string | undefined> = process.env): ApiEnv => parseConfig(apiEnvSchema, source);
