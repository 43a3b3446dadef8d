import { describe, expect, it, vi } from 'vitest';
import { startResourceMeter } from './resource-meter.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('resource meter', () => {
  it('reports the peak RSS sampled while the attempt ran, its CPU and wall time', async () => {
    const before = process.memoryUsage.rss();
    const meter = startResourceMeter(5);
    // 64 MiB touched, held across several samples, then dropped before the meter stops.
    let ballast: Buffer | undefined = Buffer.alloc(64 * 1024 * 1024, 1);
    const t0 = performance.now();
    while (performance.now() - t0 < 30) Math.sqrt(Math.random()); // CPU the meter must see
    await sleep(40);
    expect(ballast.length).toBeGreaterThan(0);
    ballast = undefined;
    const use = meter.stop();
    expect(use.peakRssBytes).toBeGreaterThan(before + 32 * 1024 * 1024);
    expect(use.cpuUserMs + use.cpuSystemMs).toBeGreaterThanOrEqual(20);
    expect(use.wallMs).toBeGreaterThanOrEqual(60);
  });

  it('reads RSS once for back-to-back attempts, and afresh after an idle spell', async () => {
    await sleep(200); // the sampler of an earlier test stops
    const rss = vi.spyOn(process.memoryUsage, 'rss');
    try {
      for (let i = 0; i < 20; i += 1) startResourceMeter(50).stop(); // quick stages, one after another
      expect(rss).toHaveBeenCalledTimes(1);
      await sleep(1_500); // ten samples (500 ms) with no meter running: the sampler stops
      const reads = rss.mock.calls.length;
      await sleep(200);
      expect(rss.mock.calls.length).toBe(reads);
      startResourceMeter(50).stop();
      expect(rss.mock.calls.length).toBe(reads + 1);
    } finally {
      rss.mockRestore();
    }
  });
});
