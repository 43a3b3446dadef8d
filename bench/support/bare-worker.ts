/**
 * The memory baseline: a bare Node process with one BullMQ Worker (ioredis) waiting on a queue,
 * nothing else. Prints "ready" when the worker is connected. Env: REDIS_URL, QUEUE_PREFIX.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const connection = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const worker = new Worker('bare', async () => 'ok', { connection, prefix: process.env['QUEUE_PREFIX'] ?? '{pwbench-bare}', concurrency: 1 });
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void worker.close().then(() => {
    connection.disconnect();
    process.exit(0);
  });
});
