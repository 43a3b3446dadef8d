import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { workerKeyPattern } from '@pipewright/queue';
import type { ApiDeps } from '../build-app.ts';
import { workerInfoSchema } from '../api-schemas.ts';

const stageTypeSchema = z
  .object({
    type: z.string(),
    family: z.string(),
    description: z.string(),
    inputs: z.record(z.string(), z.string()),
    outputs: z.record(z.string(), z.string()),
    params: z.unknown().describe('JSON Schema of `with:`'),
  })
  .meta({ id: 'StageType' });

export function registerSystemRoutes(root: FastifyInstance, deps: ApiDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/v1/workers',
    { schema: { tags: ['system'], summary: 'Workers whose heartbeat has not expired', response: { 200: z.object({ items: z.array(workerInfoSchema) }) } } },
    async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await deps.redis.scan(cursor, 'MATCH', workerKeyPattern(deps.queuePrefix), 'COUNT', 500);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      const values = keys.length ? await deps.redis.mget(keys) : [];
      const items = values.flatMap((v) => {
        if (!v) return [];
        const parsed = workerInfoSchema.safeParse(JSON.parse(v));
        return parsed.success ? [parsed.data] : [];
      });
      items.sort((a, b) => a.id.localeCompare(b.id));
      return { items };
    },
  );

  app.get(
    '/v1/stage-types',
    { schema: { tags: ['system'], summary: 'Registered stage types with their inputs, outputs and params schema', response: { 200: z.object({ items: z.array(stageTypeSchema) }) } } },
    async () => ({
      items: deps.catalog.list().map((d) => ({
        type: d.type,
        family: d.family,
        description: d.description,
        inputs: d.inputs,
        outputs: d.outputs,
        params: z.toJSONSchema(d.params, { io: 'input', unrepresentable: 'any' }),
      })),
    }),
  );
}
