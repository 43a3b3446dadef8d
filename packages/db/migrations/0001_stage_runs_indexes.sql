DROP INDEX "stage_runs_status_idx";--> statement-breakpoint
CREATE INDEX "stage_runs_parent_idx" ON "stage_runs" USING btree ("run_id","parent_key") WHERE "stage_runs"."parent_key" is not null;