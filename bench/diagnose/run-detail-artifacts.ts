/**
 * Diagnostic: EXPLAIN ANALYZE of the run detail's artifacts query (services/api run-artifacts.ts)
 * as it is (`run_id = $1 OR id IN (cached outputs)`) and as a UNION ALL of two index-friendly
 * halves, over the run-list benchmark's generated data. `tsx bench/diagnose/run-detail-artifacts.ts [--runs 100000]`
 */
import { parseArgs } from 'node:util';
import { BenchContext } from '../support/context.ts';
import { benchPool, createBenchDatabase } from '../support/databases.ts';
import { generate } from '../run-list.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '100000' } } });
const ctx = new BenchContext('detail-artifacts', { quick: true, layout: 'inproc' });
const SELECT = `select a.*, s.stage_key, t.number from artifacts a
  join stage_runs s on s.id = a.produced_by_stage_run_id join attempts t on t.id = a.produced_by_attempt_id`;
const CACHED = `select (jsonb_each_text(c.output_artifact_ids)).value::uuid from stage_runs c where c.run_id = $1 and c.status = 'CACHED'`;
const variants = {
  'current (OR)': `${SELECT} where a.run_id = $1 or a.id in (${CACHED})`,
  'proposed (UNION ALL)': `${SELECT} where a.run_id = $1 union all ${SELECT} where a.id in (${CACHED}) and a.run_id <> $1`,
};
try {
  const db = await createBenchDatabase(ctx, 'detailart');
  const pool = benchPool(ctx, db, 2);
  await generate(pool, Number(values.runs));
  const { rows: ids } = await pool.query<{ run_id: string }>(`select run_id from stage_runs where status = 'CACHED' limit 20`);
  for (const [name, sql] of Object.entries(variants)) {
    const times: number[] = [];
    let plan = '';
    let rows = 0;
    for (const { run_id } of ids) {
      const { rows: out } = await pool.query(`explain (analyze, format json) ${sql}`, [run_id]);
      const top = (out[0] as { 'QUERY PLAN': [{ 'Execution Time': number; Plan: { 'Actual Rows': number } }] })['QUERY PLAN'][0];
      times.push(top['Execution Time']);
      rows = top.Plan['Actual Rows'];
      if (!plan) plan = ((await pool.query(`explain ${sql}`, [run_id])).rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n');
    }
    times.sort((a, b) => a - b);
    console.log(`\n${name}: median ${times[Math.floor(times.length / 2)]!.toFixed(2)} ms over ${times.length} runs with a CACHED stage (${rows} rows each)\n${plan}`);
  }
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await ctx.cleanup();
  process.exit();
}
