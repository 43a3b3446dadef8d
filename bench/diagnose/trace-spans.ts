/**
 * Timing spans for diagnostics: wraps pg.Client#query (grouped into transactions per
 * connection), BullMQ Queue#add/#addBulk, QueueProducer#publishEvent and the util.noop@1 handler.
 * Import before starting a stack; set `tracer.on = true` around what to measure.
 */
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import pg from 'pg';
import { QueueProducer } from '@pipewright/queue';
import { utilNoopStage } from '@pipewright/stages';

export interface Span { t0: number; t1: number; what: string; conn?: number; rows?: number }
export const tracer = { on: false, spans: [] as Span[] };
const now = () => performance.now();

function wrapAsync(target: any, name: string, label: (self: any, args: any[]) => { what: string; conn?: number }) {
  const original = target[name];
  target[name] = function (this: any, ...args: any[]) {
    const t0 = now();
    const result = original.apply(this, args);
    if (tracer.on && result && typeof result.then === 'function') {
      const l = label(this, args);
      result.then((r: any) => tracer.spans.push({ t0, t1: now(), ...l, ...(typeof r?.rowCount === 'number' ? { rows: r.rows?.length ?? r.rowCount } : {}) }), () => {});
    }
    return result;
  };
}
let connSeq = 0;
const connIds = new WeakMap<object, number>();
const connId = (c: object) => connIds.get(c) ?? (connIds.set(c, (connSeq += 1)), connSeq);
wrapAsync(pg.Client.prototype, 'query', (self, args) => ({ what: `pg ${String(typeof args[0] === 'string' ? args[0] : args[0]?.text).replace(/\s+/g, ' ').slice(0, 400)}`, conn: connId(self) }));
wrapAsync(Queue.prototype, 'addBulk', (s) => ({ what: `addBulk ${s.name}` }));
wrapAsync(QueueProducer.prototype, 'publishEvent', (_s, args) => ({ what: `publish ${args[0]?.type}` }));
const run = utilNoopStage.run;
(utilNoopStage as { run: typeof run }).run = async (ctx) => {
  if (tracer.on) tracer.spans.push({ t0: now(), t1: now(), what: 'handler start' });
  const result = await run(ctx);
  if (tracer.on) tracer.spans.push({ t0: now(), t1: now(), what: 'handler end' });
  return result;
};

export interface Tx { t0: number; t1: number; kind: string; statements: Span[]; commitMs: number; lockMs: number }

export function transactions(): Tx[] {
  const open = new Map<number, Span[]>();
  const txs: Tx[] = [];
  for (const s of [...tracer.spans].filter((s) => s.conn !== undefined).sort((a, b) => a.t0 - b.t0)) {
    if (s.what === 'pg begin') open.set(s.conn!, [s]);
    else if (open.has(s.conn!)) {
      const list = open.get(s.conn!)!;
      list.push(s);
      if (s.what === 'pg commit' || s.what === 'pg rollback') {
        open.delete(s.conn!);
        const text = list.map((x) => x.what).join('\n');
        const kind = text.includes('into "stage_runs"') ? 'submit' : text.includes('into "artifacts"') ? 'apply succeeded' : text.includes('from "outbox"') ? 'relay' : text.includes('"worker_id"') ? 'apply started' : 'other';
        const lock = list.find((x) => x.what.includes('from "runs"') && x.what.includes('for update'));
        txs.push({ t0: list[0]!.t0, t1: s.t1, kind, statements: list.slice(1, -1), commitMs: s.t1 - s.t0, lockMs: lock ? lock.t1 - lock.t0 : 0 });
      }
    }
  }
  return txs;
}

/** Total time and count per statement shape (literals and parameter numbers folded). */
export function statementTotals(): { what: string; n: number; totalMs: number; rows: number }[] {
  const by = new Map<string, { n: number; totalMs: number; rows: number }>();
  for (const s of tracer.spans) {
    if (s.conn === undefined) continue;
    const key = s.what.replace(/\$\d+/g, '$n').replace(/(\$n, )+\$n/g, '$n…').slice(0, 110);
    const e = by.get(key) ?? { n: 0, totalMs: 0, rows: 0 };
    e.n += 1;
    e.totalMs += s.t1 - s.t0;
    e.rows += s.rows ?? 0;
    by.set(key, e);
  }
  return [...by].map(([what, v]) => ({ what, ...v })).sort((a, b) => b.totalMs - a.totalMs);
}

export { serverCpuMs } from '../support/processes.ts';
