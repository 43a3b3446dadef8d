/**
 * Preloaded (`--import`) into a process whose memory a benchmark measures; needs `--expose-gc`
 * and an IPC channel. On `{ type: 'measure' }` it runs a full GC twice and answers with
 * process.memoryUsage(). It adds no timers and keeps nothing alive (the channel is unref'd).
 */
process.on('message', (message: unknown) => {
  if ((message as { type?: string } | null)?.type !== 'measure') return;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  process.send?.({ type: 'memory', gc: gc !== undefined, usage: process.memoryUsage() });
});
process.channel?.unref();
