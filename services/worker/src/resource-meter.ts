import type { ResourceUse } from '@pipewright/core';

/**
 * Measures an attempt's CPU time, wall time and peak RSS. CPU and RSS are the process's, so with
 * concurrency > 1 they include neighbours' work: an upper bound, stated as such in the docs.
 */
export function startResourceMeter(sampleMs = 100): { stop(): ResourceUse } {
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, sampleMs);
  timer.unref();
  return {
    stop(): ResourceUse {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      const cpu = process.cpuUsage(cpuStart);
      return {
        cpuUserMs: Math.round(cpu.user / 1000),
        cpuSystemMs: Math.round(cpu.system / 1000),
        peakRssBytes: peak,
        wallMs: Math.round(performance.now() - wallStart),
      };
    },
  };
}
