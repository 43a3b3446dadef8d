import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PipewrightError } from '@pipewright/core';
import type { ApiDeps } from '../build-app.ts';
import { errorSchema, idParamsSchema } from '../api-schemas.ts';
import { getArtifactLineage } from '../queries/get-artifact-lineage.ts';

const MAX_NODES = 500;

const artifactLineageSchema = z
  .object({
    root: z.string(),
    depth: z.number(),
    truncated: z.boolean().describe(`True when the graph was cut at ${MAX_NODES} nodes`),
    nodes: z.array(
      z.discriminatedUnion('kind', [
        z.object({
          kind: z.literal('artifact'),
          id: z.string(),
          runId: z.string(),
          type: z.string(),
          outputName: z.string(),
          digest: z.string(),
          sizeBytes: z.number(),
          mediaType: z.string(),
          createdAt: z.string(),
          level: z.number().describe('Hops from the root artifact: negative upstream, positive downstream'),
          links: z.record(z.string(), z.string()),
        }),
        z.object({
          kind: z.literal('stage'),
          id: z.string().describe('The attempt id'),
          runId: z.string(),
          pipeline: z.string(),
          stage: z.string(),
          uses: z.string(),
          attempt: z.number(),
          status: z.string(),
          level: z.number(),
        }),
      ]),
    ),
    edges: z.array(z.object({ from: z.string(), to: z.string(), kind: z.enum(['produced', 'consumed']), name: z.string() })),
  })
  .meta({ id: 'ArtifactLineage' });

export function registerArtifactLineageRoutes(root: FastifyInstance, deps: ApiDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/v1/artifacts/:id/lineage',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'What produced an artifact and what used it, transitively and across runs',
        description: `Nodes are artifacts and stage attempts; edges are \`produced\` (attempt -> artifact) and \`consumed\` (artifact -> attempt). Follows \`depth\` stage hops each way, at most ${MAX_NODES} nodes.`,
        params: idParamsSchema,
        querystring: z.object({ depth: z.coerce.number().int().min(1).max(20).default(5) }),
        response: { 200: artifactLineageSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request) => {
      const lineage = await getArtifactLineage(deps.db, request.params.id, { depth: request.query.depth, maxNodes: MAX_NODES });
      if (!lineage) throw new PipewrightError('PW_ERR_ARTIFACT_NOT_FOUND', `artifact ${request.params.id} does not exist`);
      return lineage;
    },
  );
}
