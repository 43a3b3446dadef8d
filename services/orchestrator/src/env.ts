import { z } from 'zod';
import { parseConfig } from '@pipewright/core';

/** Every setting of the orchestrator process; nothing else reads process.env. */
export const orchestratorEnvSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().min(1).default('{pw}'),
  /** Events being applied at once; a run's results among them are applied in one transaction. */
  EVENT_CONCURRENCY: z.coerce.number().int().min(1).max(4096).default(512),
  RELAY_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(2000),
  /** How long an anomaly (a vanished job, a silent worker) must last before it is repaired. */
  RECONCILE_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type OrchestratorEnv = z.infer<typeof orchestratorEnvSchema>;
export const loadOrchestratorEnv = (source: Record<string, string | undefined> = process.env): OrchestratorEnv =>
  parseConfig(orchestratorEnvSchema, source);
