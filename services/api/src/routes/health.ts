import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiDeps } from '../build-app.ts';

const readySchema = z
  .object({ status: z.enum(['ready', 'not-ready']), checks: z.object({ postgres: z.string(), redis: z.string() }) })
  .meta({ id: 'Readiness' });

const CHECK_TIMEOUT_MS = 2000;

async function check(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `error: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(root: FastifyInstance, deps: ApiDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/healthz',
    { schema: { tags: ['system'], summary: 'Liveness: the process answers', response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    { schema: { tags: ['system'], summary: 'Readiness: Postgres and Redis answer', response: { 200: readySchema, 503: readySchema } } },
    async (_request, reply) => {
      const [postgres, redis] = await Promise.all([check(() => deps.pingDatabase()), check(() => deps.redis.ping())]);
      const ready = postgres === 'ok' && redis === 'ok';
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not-ready', checks: { postgres, redis } });
    },
  );
}
