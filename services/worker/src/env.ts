import { z } from 'zod';
import { parseConfig } from '@pipewright/core';

/** Every setting of the worker process; nothing else reads process.env. */
export const workerEnvSchema = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().min(1).default('{pw}'),
  /** Where the local artifact store keeps blobs; shared by every process on one machine. */
  ARTIFACT_ROOT: z.string().min(1).default('.pipewright/artifacts'),
  /** Base directory that `ingest.*` stages may read files from. */
  DATA_ROOT: z.string().min(1).default('.'),
  /** Comma-separated: cpu, gpu, all, or queue names like stage-train-gpu. `--queues` overrides. */
  WORKER_QUEUES: z.string().min(1).default('cpu'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  WORKER_ID: z.string().optional(),
  /** Heartbeat period; a worker silent for three periods is considered gone. */
  WORKER_HEARTBEAT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** ingest.http@1 may fetch these hosts although they resolve to private or loopback addresses. */
  HTTP_ALLOW_HOSTS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((h) => h.trim()).filter(Boolean)),
  /**
   * ingest.postgres@1's named connections, as JSON: `{"warehouse":"postgres://reader@db/warehouse"}`.
   * Specs name a connection; no password sits in a spec.
   */
  PG_CONNECTIONS: z
    .string()
    .default('{}')
    .transform((v, ctx) => {
      try {
        const parsed: unknown = JSON.parse(v);
        const ok = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.values(parsed).every((u) => typeof u === 'string');
        if (ok) return parsed as Record<string, string>;
      } catch {
        // fall through to the issue below
      }
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of connection name -> postgres:// URL' });
      return z.NEVER;
    }),
  TF_BACKEND: z.enum(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;
export const loadWorkerEnv = (source: Record<string, string | undefined> = process.env): WorkerEnv =>
  parseConfig(workerEnvSchema, source);
