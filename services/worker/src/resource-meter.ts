import type { ResourceUse } from '@pipewright/core';

/**
 * One RSS sampler for the whole process, shared by every running attempt: reading RSS costs a
 * syscall, and a per-attempt timer plus reads at start and stop were ~5% of a worker's CPU when
 * it ran thousands of quick stages. Each running meter keeps the highest sample seen while it ran.
 */
const meters = new Set<{ peak: number }>();
let lastRss = process.memoryUsage.rss();
let sampler: NodeJS.Timeout | undefined;

function sample(): void {
  lastRss = process.memoryUsage.rss();
  for (const m of meters) m.peak = Math.max(m.peak, lastRss);
}

/**
 * Measures an attempt's CPU time, wall time and peak RSS. CPU and RSS are the process's, so with
 * concurrency > 1 they include neighbours' work: an upper bound, stated as such in the docs. RSS
 * is sampled every `sampleMs` (the first meter's value), so a stage shorter than that reports
 * the RSS last sampled.
 */
export function startResourceMeter(sampleMs = 100): { stop(): ResourceUse } {
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  if (!sampler) {
    sample(); // after an idle spell the last sample is stale
    sampler = setInterval(sample, sampleMs);
    sampler.unref();
  }
  const meter = { peak: lastRss };
  meters.add(meter);
  return {
    stop(): ResourceUse {
      meters.delete(meter);
      if (meters.size === 0 && sampler) {
        clearInterval(sampler);
        sampler = undefined;
      }
      const cpu = process.cpuUsage(cpuStart);
      return {
        cpuUserMs: Math.round(cpu.user / 1000),
        cpuSystemMs: Math.round(cpu.system / 1000),
        peakRssBytes: Math.max(meter.peak, lastRss),
        wallMs: Math.round(performance.now() - wallStart),
      };
    },
  };
}
