import type { ResultRow } from './context.ts';

const ratioText = (r: ResultRow) =>
  r.ratio === undefined || !Number.isFinite(r.ratio) ? '—' : r.ratio >= 100 ? r.ratio.toFixed(0) : r.ratio >= 10 ? r.ratio.toFixed(1) : r.ratio >= 0.1 ? r.ratio.toFixed(2) : r.ratio.toPrecision(2);
const passText = (r: ResultRow) => (r.pass === undefined ? '—' : r.pass ? 'yes' : 'NO');

const HEADER = ['figure', 'Pipewright', 'baseline', 'ratio', 'goal', 'pass'];
const cells = (r: ResultRow) => [r.figure, r.pipewright, r.baseline, ratioText(r), r.goal, passText(r)];

/** The table for the terminal: aligned columns. */
export function textTable(rows: ResultRow[]): string {
  const all = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd();
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map((r) => line(cells(r)))].join('\n');
}

/** The same table in Markdown. */
export function markdownTable(rows: ResultRow[]): string {
  const esc = (c: string) => c.replaceAll('|', '\\|');
  return [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`)].join('\n');
}
