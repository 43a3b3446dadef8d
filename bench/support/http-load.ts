import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadResult {
  requests: number;
  ok: number;
  errors: number;
  statusCounts: Record<string, number>;
  seconds: number;
  rate: number;
  latenciesMs: number[];
  /** CPU this process (the load generator) used, in % of one core. */
  generatorCpu: number;
}

export interface LoadOptions {
  url: string;
  method: 'GET' | 'POST';
  /** A fixed body, or one made per request. */
  body?: string | (() => string);
  contentType?: string;
  /** Concurrent keep-alive connections, each with one request in flight (like autocannon -c). */
  connections: number;
  seconds: number;
  /** Not recorded: lets the server warm up (JIT, pools). */
  warmupSeconds?: number;
  expectStatus: number;
}

/**
 * A closed-loop HTTP load generator: `connections` keep-alive sockets, each sending its next
 * request as soon as the previous answer arrives (autocannon's model). Records every latency.
 */
export async function httpLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const fixed = typeof options.body === 'string' ? Buffer.from(options.body) : undefined;
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const body = typeof options.body === 'function' ? Buffer.from(options.body()) : fixed;
      const headers: Record<string, string | number> = {};
      if (body) {
        headers['content-type'] = options.contentType ?? 'application/json';
        headers['content-length'] = body.length;
      }
      const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: options.method, agent, headers }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });

  const phase = async (seconds: number, record: boolean) => {
    const latencies: number[] = [];
    const statusCounts: Record<string, number> = {};
    let errors = 0;
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        while (performance.now() < end) {
          const start = performance.now();
          try {
            const status = await once();
            statusCounts[status] = (statusCounts[status] ?? 0) + 1;
            if (status !== options.expectStatus) errors += 1;
            else if (record) latencies.push(performance.now() - start);
          } catch {
            errors += 1;
            statusCounts['error'] = (statusCounts['error'] ?? 0) + 1;
          }
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    return { latencies, statusCounts, errors, elapsed };
  };

  try {
    if (options.warmupSeconds) await phase(options.warmupSeconds, false);
    const cpu0 = process.cpuUsage();
    const result = await phase(options.seconds, true);
    const cpu = process.cpuUsage(cpu0);
    const requests = Object.values(result.statusCounts).reduce((a, b) => a + b, 0);
    return {
      requests,
      ok: result.latencies.length,
      errors: result.errors,
      statusCounts: result.statusCounts,
      seconds: result.elapsed,
      rate: result.latencies.length / result.elapsed,
      latenciesMs: result.latencies,
      generatorCpu: ((cpu.user + cpu.system) / 1000 / (result.elapsed * 1000)) * 100,
    };
  } finally {
    agent.destroy();
  }
}
