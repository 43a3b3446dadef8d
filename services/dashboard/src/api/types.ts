/** The shapes the dashboard reads from the REST API (see /openapi.json). */

export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELING', 'CANCELED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STAGE_STATUSES = ['PENDING', 'QUEUED', 'RUNNING', 'RETRY_WAIT', 'SUCCEEDED', 'CACHED', 'FAILED', 'SKIPPED', 'CANCELED'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

export const TERMINAL_RUN_STATUSES: readonly string[] = ['SUCCEEDED', 'FAILED', 'CANCELED'];
export const TERMINAL_STAGE_STATUSES: readonly string[] = ['SUCCEEDED', 'CACHED', 'FAILED', 'SKIPPED', 'CANCELED'];

export interface StageFailure {
  kind?: string;
  code: string;
  message: string;
  retryable?: boolean;
}

export interface Artifact {
  id: string;
  runId: string;
  type: string;
  digest: string;
  uri: string;
  mediaType: string;
  sizeBytes: number;
  metadata: Record<string, unknown> | null;
  outputName: string;
  producedBy: { stage: string; stageRunId: string; attemptId: string; attempt: number };
  createdAt: string;
  links: Record<string, string>;
}

export interface Attempt {
  id: string;
  number: number;
  status: string;
  queue: string;
  jobId: string;
  workerId: string | null;
  host: string | null;
  backend: string | null;
  error: StageFailure | null;
  resourceUse: { cpuUserMs: number; cpuSystemMs: number; peakRssBytes: number; wallMs: number } | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface CacheExplanation {
  hit: boolean;
  key?: string | null;
  reason?: string;
  changed?: string[];
  comparedWith?: { runId: string; stage: string; stageRunId?: string };
  source?: { runId: string; stage: string; stageRunId?: string };
}

export interface Stage {
  id: string;
  stage: string;
  uses: string;
  needs: string[];
  status: StageStatus;
  params: Record<string, unknown>;
  resourceClass: 'cpu' | 'gpu';
  attemptCount: number;
  metrics: Record<string, number> | null;
  error: StageFailure | null;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  attempts: Attempt[];
  outputs: Record<string, Artifact>;
  cacheExplanation?: CacheExplanation | null;
  /** Run-time fan-out: the list a foreach group maps over. */
  foreach?: { stage: string; output: string } | null;
  /** For an instance of a foreach group: the group's stage key. */
  parent?: string | null;
  itemIndex?: number | null;
}

export interface StageDetail extends Stage {
  runId: string;
  inputs: Record<string, { from: { stage: string; output: string }; type: string; artifact: Artifact | null }>;
  cacheKey: string | null;
  cacheComponents?: unknown;
  links?: Record<string, string>;
  logsUrl?: string;
}

export interface RunSummary {
  id: string;
  pipeline: { id: string; name: string; version?: number };
  status: RunStatus;
  params: Record<string, unknown>;
  teamId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  links: Record<string, string>;
}

export interface RunDetail extends RunSummary {
  pipeline: { id: string; name: string; version: number };
  stages: Stage[];
}

export interface RunList {
  items: RunSummary[];
  nextCursor: string | null;
}

export interface MetricSeries {
  stage: string;
  attempt: number;
  attemptId: string;
  name: string;
  points: { step: number; value: number; recordedAt: string }[];
}

export interface RunMetrics {
  runId: string;
  series: MetricSeries[];
  final: Record<string, Record<string, number>>;
}

export interface LogLine {
  at: string;
  level: string;
  message: string;
  attempt: number;
  fields?: unknown;
}

export interface WorkerInfo {
  id: string;
  host: string;
  pid?: number;
  queues: string[];
  backend: string | null;
  gpuCount: number;
  version: string;
  lastHeartbeatAt: string;
}

export interface QueueInfo {
  name: string;
  kind: 'stage' | 'events';
  family: string | null;
  resourceClass: 'cpu' | 'gpu' | null;
  paused: boolean;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  throughputPerMinute: number | null;
  failedLastMinute: number | null;
}

export interface RunStats {
  from: string;
  to: string;
  bucketMinutes: number;
  buckets: { start: string; counts: Record<RunStatus, number>; total: number }[];
  totals: Record<RunStatus, number>;
}

export interface RecentFailure {
  runId: string;
  pipeline: string;
  stage: string;
  uses: string;
  attempt: number;
  attemptId: string;
  status: string;
  code: string | null;
  message: string | null;
  retryable: boolean | null;
  workerId: string | null;
  host: string | null;
  at: string;
}

export interface RecentFailures {
  minutes: number;
  since: string;
  total: number;
  byCode: Record<string, number>;
  truncated: boolean;
  items: RecentFailure[];
}

export interface PipelineSummary {
  name: string;
  latestVersion: number;
  versions: number;
  updatedAt: string;
  lastRun: { id: string; status: RunStatus; createdAt: string } | null;
}

export interface PipelineVersion {
  id: string;
  version: number;
  specDigest: string;
  spec: unknown;
  createdAt: string;
}

export interface SpecProblem {
  path: string;
  code: string;
  message: string;
  line?: number;
  column?: number;
}

export interface SpecValidation {
  ok: boolean;
  name: string | null;
  problems: SpecProblem[];
  stages: { id: string; uses: string; needs: string[]; resourceClass: string }[];
}

export interface LineageNode {
  kind: 'artifact' | 'stage';
  id: string;
  runId: string;
  level: number;
  // artifact
  type?: string;
  outputName?: string;
  digest?: string;
  sizeBytes?: number;
  links?: Record<string, string>;
  // stage
  pipeline?: string;
  stage?: string;
  uses?: string;
  attempt?: number;
  status?: string;
}

export interface ArtifactLineage {
  root: string;
  depth: number;
  truncated: boolean;
  nodes: LineageNode[];
  edges: { from: string; to: string; kind: 'produced' | 'consumed'; name: string }[];
}

/** Bulk answers: the lead's routes answer `done`; the first draft of the issue said `retried`. */
export interface BulkResult {
  done?: string[];
  retried?: string[];
  skipped: { id: string; code?: string; reason?: string; message?: string }[];
}
