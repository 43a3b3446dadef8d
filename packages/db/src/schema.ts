/** The whole drizzle schema: one file per aggregate under ./schema/. */
export { pipelines } from './schema/pipelines.ts';
export { runs } from './schema/runs.ts';
export { stageRuns } from './schema/stage-runs.ts';
export { attempts } from './schema/attempts.ts';
export { artifacts } from './schema/artifacts.ts';
export { lineageEdges } from './schema/lineage-edges.ts';
export { metrics } from './schema/metrics.ts';
export { stageLogs } from './schema/stage-logs.ts';
export { outbox } from './schema/outbox.ts';
export { idempotencyKeys } from './schema/idempotency-keys.ts';
export { leases } from './schema/leases.ts';
