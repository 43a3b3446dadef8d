import type { ResourceUse } from '@pipewright/core';

/**
 * One RSS sampler for the whole process, shared by every running attempt: reading RSS costs a
 * syscall, and a per-attempt timer plus reads at start and stop were ~5% of a worker's CPU when
 * it ran thousands of quick stages. Each running meter keeps the highest sample seen while it ran.
 * The sampler outlives the last meter by a few samples: stopped with it, it was started again by
 * the next quick stage, with a fresh read each time (2% of the in-process fan-out's CPU).
 */
const meters = new Set<{ peak: number }>();
let lastRss = process.memoryUsage.rss();
let sampler: NodeJS.Timeout | undefined;
/** Samples taken in a row with no meter running; at `IDLE_SAMPLES` the sampler stops. */
let idleSamples = 0;
const IDLE_SAMPLES = 10;

function sample(): void {
  lastRss = process.memoryUsage.rss();
  for (const m of meters) m.peak = Math.max(m.peak, lastRss);
  idleSamples = meters.size === 0 ? idleSamples + 1 : 0;
  if (idleSamples >= IDLE_SAMPLES && sampler) {
    clearInterval(sampler);
    sampler = undefined;
  }
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
    idleSamples = 0;
    sampler = setInterval(sample, sampleMs);
    sampler.unref();
  }
  const meter = { peak: lastRss };
  meters.add(meter);
  return {
    stop(): ResourceUse {
      meters.delete(meter);
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
