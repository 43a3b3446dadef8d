CREATE TABLE "artifacts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"team_id" text,
	"run_id" uuid NOT NULL,
	"produced_by_stage_run_id" uuid NOT NULL,
	"produced_by_attempt_id" uuid NOT NULL,
	"output_name" text NOT NULL,
	"type" text NOT NULL,
	"digest" text NOT NULL,
	"uri" text NOT NULL,
	"media_type" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"metadata" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "attempts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"stage_run_id" uuid NOT NULL,
	"run_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"status" text NOT NULL,
	"queue" text NOT NULL,
	"job_id" text NOT NULL,
	"worker_id" text,
	"host" text,
	"backend" text,
	"error" jsonb,
	"resource_use" jsonb,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"run_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "leases" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lineage_edges" (
	"id" uuid PRIMARY KEY NOT NULL,
	"run_id" uuid NOT NULL,
	"artifact_id" uuid NOT NULL,
	"consumer_stage_run_id" uuid NOT NULL,
	"consumer_attempt_id" uuid NOT NULL,
	"input_name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "metrics" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" uuid NOT NULL,
	"stage_run_id" uuid NOT NULL,
	"attempt_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"step" integer NOT NULL,
	"value" double precision NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL,
	"available_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pipelines" (
	"id" uuid PRIMARY KEY NOT NULL,
	"team_id" text,
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"spec_digest" text NOT NULL,
	"spec" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"team_id" text,
	"pipeline_id" uuid NOT NULL,
	"pipeline_name" text NOT NULL,
	"status" text NOT NULL,
	"params" jsonb NOT NULL,
	"error" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stage_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"run_id" uuid NOT NULL,
	"stage_run_id" uuid NOT NULL,
	"attempt_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"idx" integer NOT NULL,
	"level" text NOT NULL,
	"message" text NOT NULL,
	"fields" jsonb,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stage_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"run_id" uuid NOT NULL,
	"stage_key" text NOT NULL,
	"position" integer NOT NULL,
	"uses" text NOT NULL,
	"family" text NOT NULL,
	"needs" jsonb NOT NULL,
	"inputs" jsonb NOT NULL,
	"outputs" jsonb NOT NULL,
	"params" jsonb NOT NULL,
	"when_expr" text,
	"foreach" jsonb,
	"parent_key" text,
	"item_index" integer,
	"resource_class" text NOT NULL,
	"gpu" integer DEFAULT 0 NOT NULL,
	"retry" jsonb NOT NULL,
	"timeout_ms" integer NOT NULL,
	"cache_enabled" boolean NOT NULL,
	"status" text NOT NULL,
	"attempt_count" integer DEFAULT 0 NOT NULL,
	"metrics" jsonb,
	"error" jsonb,
	"output_artifact_ids" jsonb,
	"cache_key" text,
	"cache_components" jsonb,
	"cache_explanation" jsonb,
	"cancel_requested_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"queued_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "artifacts" ADD CONSTRAINT "artifacts_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "artifacts" ADD CONSTRAINT "artifacts_produced_by_stage_run_id_stage_runs_id_fk" FOREIGN KEY ("produced_by_stage_run_id") REFERENCES "public"."stage_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "artifacts" ADD CONSTRAINT "artifacts_produced_by_attempt_id_attempts_id_fk" FOREIGN KEY ("produced_by_attempt_id") REFERENCES "public"."attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_stage_run_id_stage_runs_id_fk" FOREIGN KEY ("stage_run_id") REFERENCES "public"."stage_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "attempts" ADD CONSTRAINT "attempts_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lineage_edges" ADD CONSTRAINT "lineage_edges_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lineage_edges" ADD CONSTRAINT "lineage_edges_artifact_id_artifacts_id_fk" FOREIGN KEY ("artifact_id") REFERENCES "public"."artifacts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lineage_edges" ADD CONSTRAINT "lineage_edges_consumer_stage_run_id_stage_runs_id_fk" FOREIGN KEY ("consumer_stage_run_id") REFERENCES "public"."stage_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lineage_edges" ADD CONSTRAINT "lineage_edges_consumer_attempt_id_attempts_id_fk" FOREIGN KEY ("consumer_attempt_id") REFERENCES "public"."attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "metrics" ADD CONSTRAINT "metrics_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "metrics" ADD CONSTRAINT "metrics_stage_run_id_stage_runs_id_fk" FOREIGN KEY ("stage_run_id") REFERENCES "public"."stage_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "metrics" ADD CONSTRAINT "metrics_attempt_id_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_pipeline_id_pipelines_id_fk" FOREIGN KEY ("pipeline_id") REFERENCES "public"."pipelines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_logs" ADD CONSTRAINT "stage_logs_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_logs" ADD CONSTRAINT "stage_logs_stage_run_id_stage_runs_id_fk" FOREIGN KEY ("stage_run_id") REFERENCES "public"."stage_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_logs" ADD CONSTRAINT "stage_logs_attempt_id_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stage_runs" ADD CONSTRAINT "stage_runs_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "artifacts_attempt_output_uq" ON "artifacts" USING btree ("produced_by_attempt_id","output_name");--> statement-breakpoint
CREATE INDEX "artifacts_run_idx" ON "artifacts" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "artifacts_digest_idx" ON "artifacts" USING btree ("digest");--> statement-breakpoint
CREATE UNIQUE INDEX "attempts_stage_number_uq" ON "attempts" USING btree ("stage_run_id","number");--> statement-breakpoint
CREATE INDEX "attempts_run_idx" ON "attempts" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "attempts_status_idx" ON "attempts" USING btree ("status");--> statement-breakpoint
CREATE INDEX "attempts_finished_idx" ON "attempts" USING btree ("finished_at");--> statement-breakpoint
CREATE UNIQUE INDEX "lineage_edges_attempt_input_uq" ON "lineage_edges" USING btree ("consumer_attempt_id","input_name");--> statement-breakpoint
CREATE INDEX "lineage_edges_run_idx" ON "lineage_edges" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "lineage_edges_artifact_idx" ON "lineage_edges" USING btree ("artifact_id");--> statement-breakpoint
CREATE UNIQUE INDEX "metrics_attempt_kind_name_step_uq" ON "metrics" USING btree ("attempt_id","kind","name","step");--> statement-breakpoint
CREATE INDEX "metrics_run_idx" ON "metrics" USING btree ("run_id","stage_run_id");--> statement-breakpoint
CREATE INDEX "outbox_available_idx" ON "outbox" USING btree ("available_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "pipelines_name_digest_uq" ON "pipelines" USING btree ("name","spec_digest");--> statement-breakpoint
CREATE UNIQUE INDEX "pipelines_name_version_uq" ON "pipelines" USING btree ("name","version");--> statement-breakpoint
CREATE INDEX "pipelines_created_idx" ON "pipelines" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "runs_created_idx" ON "runs" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "runs_status_created_idx" ON "runs" USING btree ("status","created_at","id");--> statement-breakpoint
CREATE INDEX "runs_pipeline_created_idx" ON "runs" USING btree ("pipeline_name","created_at","id");--> statement-breakpoint
CREATE INDEX "runs_team_created_idx" ON "runs" USING btree ("team_id","created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "stage_logs_attempt_seq_idx_uq" ON "stage_logs" USING btree ("attempt_id","seq","idx");--> statement-breakpoint
CREATE INDEX "stage_logs_stage_idx" ON "stage_logs" USING btree ("stage_run_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "stage_runs_run_key_uq" ON "stage_runs" USING btree ("run_id","stage_key");--> statement-breakpoint
CREATE INDEX "stage_runs_status_idx" ON "stage_runs" USING btree ("status");--> statement-breakpoint
CREATE INDEX "stage_runs_cache_key_idx" ON "stage_runs" USING btree ("cache_key") WHERE "stage_runs"."status" = 'SUCCEEDED';--> statement-breakpoint
CREATE INDEX "stage_runs_uses_key_idx" ON "stage_runs" USING btree ("uses","stage_key","finished_at");