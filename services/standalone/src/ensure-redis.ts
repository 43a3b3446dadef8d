import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { isListening as listening } from '@pipewright/process';

export interface EnsuredRedis {
  /** The redis-server we started, if we had to. */
  child?: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Makes sure a Redis answers at `url`. When nothing listens there, the address is local and a
 * `redis-server` binary is on PATH, it starts one (no persistence: Postgres is the source of
 * truth and the reconciler rebuilds queues) with its files under `dir`.
 */
export async function ensureRedis(url: string, dir: string): Promise<EnsuredRedis> {
  const parsed = new URL(url);
  const host = parsed.hostname || '127.0.0.1';
  const port = Number(parsed.port || 6379);
  if (await listening(host, port)) return { stop: async () => undefined };
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  if (!local || found.error) {
    throw new Error(
      `nothing listens at REDIS_URL=${url}${local ? ' and no redis-server binary is on PATH (install it, e.g. apt-get install redis-server)' : ''}`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i += 1) {
    if (await listening(host, port)) {
      return {
        child,
        stop: async () => {
          child.kill('SIGTERM');
        },
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`started redis-server on port ${port} but it did not answer`);
}
