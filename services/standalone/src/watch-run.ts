interface StageView {
  stage: string;
  status: string;
  attemptCount: number;
  metrics: Record<string, number> | null;
  durationMs: number | null;
  attempts: { backend: string | null; error: unknown }[];
}
export interface RunView {
  id: string;
  status: string;
  stages: StageView[];
}
interface MetricsView {
  series: { stage: string; name: string; points: { step: number; value: number }[] }[];
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELED']);

/**
 * Polls a run through the REST API and prints each stage's transitions and its latest
 * training metrics until the run ends. (The dashboard uses server-sent events; a terminal
 * client polling twice a second is simpler and enough here.)
 */
export async function watchRun(baseUrl: string, runId: string, print: (line: string) => void, pollMs = 400): Promise<RunView> {
  const seen = new Map<string, string>();
  const lastStep = new Map<string, number>();
  const t0 = performance.now();
  const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
  for (;;) {
    const run = (await (await fetch(`${baseUrl}/v1/runs/${runId}`)).json()) as RunView;
    for (const s of run.stages) {
      const key = `${s.status}/${s.attemptCount}`;
      if (seen.get(s.stage) === key) continue;
      seen.set(s.stage, key);
      const backend = s.attempts.at(-1)?.backend;
      const extra = s.status === 'SUCCEEDED' && s.durationMs !== null ? ` in ${s.durationMs} ms${backend ? ` (${backend})` : ''}` : '';
      const error = s.status === 'FAILED' ? ` ${JSON.stringify(s.attempts.at(-1)?.error ?? null)}` : '';
      print(`${stamp()} ${s.stage.padEnd(10)} ${s.status}${s.attemptCount > 1 ? ` (attempt ${s.attemptCount})` : ''}${extra}${error}`);
    }
    if (run.stages.some((s) => s.status === 'RUNNING')) {
      const metrics = (await (await fetch(`${baseUrl}/v1/runs/${runId}/metrics`)).json()) as MetricsView;
      const byStage = new Map<string, string[]>();
      let step = -1;
      for (const series of metrics.series) {
        const last = series.points.at(-1);
        if (!last || last.step <= (lastStep.get(series.stage) ?? -1)) continue;
        step = last.step;
        const list = byStage.get(series.stage) ?? [];
        list.push(`${series.name}=${last.value.toFixed(4)}`);
        byStage.set(series.stage, list);
      }
      for (const [stage, values] of byStage) {
        lastStep.set(stage, step);
        print(`${stamp()} ${stage.padEnd(10)} step ${step}: ${values.join(' ')}`);
      }
    }
    if (TERMINAL.has(run.status)) return run;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
