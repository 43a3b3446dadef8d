import { CategoryScale, Chart as ChartJS, Legend, LinearScale, LineElement, PointElement, Tooltip, BarElement, type ChartOptions } from 'chart.js';
import { Bar, Line } from 'react-chartjs-2';
import type { MetricSeries } from '../api/types.ts';
import { formatNumber } from '../format.ts';

ChartJS.register(CategoryScale, LinearScale, PointElement, LineElement, BarElement, Tooltip, Legend);

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/**
 * One metric of one stage (loss, accuracy, …) per step, one line per attempt. Live updates
 * replace the data without animation. The figure's caption states the latest value in words,
 * for screen readers and for the narrow layout.
 */
export function MetricChart({ name, series }: { name: string; series: MetricSeries[] }) {
  const steps = [...new Set(series.flatMap((s) => s.points.map((p) => p.step)))].sort((a, b) => a - b);
  const data = {
    labels: steps,
    datasets: series.map((s, i) => {
      const byStep = new Map(s.points.map((p) => [p.step, p.value]));
      const color = PALETTE[i % PALETTE.length] ?? '#2563eb';
      return {
        label: series.length > 1 ? `attempt ${s.attempt}` : name,
        data: steps.map((step) => byStep.get(step) ?? null),
        borderColor: color,
        backgroundColor: color,
        pointRadius: steps.length > 60 ? 0 : 2,
        borderWidth: 2,
        spanGaps: true,
      };
    }),
  };
  const options: ChartOptions<'line'> = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { display: series.length > 1 }, tooltip: { intersect: false, mode: 'index' } },
    scales: { x: { title: { display: true, text: 'step' }, ticks: { maxTicksLimit: 10 } }, y: { ticks: { maxTicksLimit: 6 } } },
  };
  const points = series.reduce((n, s) => n + s.points.length, 0);
  const latest = series.at(-1)?.points.at(-1);
  return (
    <figure className="metric-chart" data-testid={`metric-chart-${name}`} data-points={points}>
      <figcaption>
        <strong>{name}</strong>{' '}
        <span className="muted">
          {points} points{latest ? `, latest ${formatNumber(latest.value)} at step ${latest.step}` : ''}
        </span>
      </figcaption>
      <div className="chart-box">
        <Line data={data} options={options} aria-label={`${name} per step`} role="img" />
      </div>
    </figure>
  );
}

const STATUS_COLORS: Record<string, string> = {
  QUEUED: '#93c5fd',
  RUNNING: '#2563eb',
  SUCCEEDED: '#16a34a',
  FAILED: '#dc2626',
  CANCELING: '#f59e0b',
  CANCELED: '#6b7280',
};

/** Runs created per hour, stacked by status. */
export function RunsByHourChart({ buckets, label }: { buckets: { start: string; counts: Record<string, number> }[]; label: string }) {
  const statuses = Object.keys(STATUS_COLORS);
  const data = {
    labels: buckets.map((b) => new Date(b.start).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })),
    datasets: statuses.map((status) => ({ label: status, data: buckets.map((b) => b.counts[status] ?? 0), backgroundColor: STATUS_COLORS[status] })),
  };
  const options: ChartOptions<'bar'> = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
    scales: { x: { stacked: true, ticks: { maxTicksLimit: 12 } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
  };
  return (
    <div className="chart-box tall">
      <Bar data={data} options={options} aria-label={label} role="img" />
    </div>
  );
}
