import type { artifacts, attempts, pipelines, runs, stageRuns } from './schema.ts';

/** The rows of the tables the engine and the API read whole, as drizzle returns them. */
export type RunRow = typeof runs.$inferSelect;
export type StageRow = typeof stageRuns.$inferSelect;
export type AttemptRow = typeof attempts.$inferSelect;
export type ArtifactRow = typeof artifacts.$inferSelect;
export type PipelineRow = typeof pipelines.$inferSelect;
