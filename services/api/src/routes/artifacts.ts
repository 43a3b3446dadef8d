import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PipewrightError } from '@pipewright/core';
import type { ApiDeps } from '../build-app.ts';
import { artifactSchema, errorSchema, idParamsSchema } from '../api-schemas.ts';
import { getArtifact } from '../queries/get-artifact.ts';

const EXTENSIONS: Record<string, string> = {
  'application/vnd.apache.arrow.file': 'arrow',
  'application/json': 'json',
};

export function registerArtifactRoutes(root: FastifyInstance, deps: ApiDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/v1/artifacts/:id',
    { schema: { tags: ['artifacts'], summary: "An artifact's metadata and who produced it", params: idParamsSchema, response: { 200: artifactSchema, 400: errorSchema, 404: errorSchema } } },
    async (request) => {
      const artifact = await getArtifact(deps.db, request.params.id);
      if (!artifact) throw new PipewrightError('PW_ERR_ARTIFACT_NOT_FOUND', `artifact ${request.params.id} does not exist`);
      return artifact;
    },
  );

  app.get(
    '/v1/artifacts/:id/content',
    {
      schema: {
        tags: ['artifacts'],
        summary: "Download an artifact's bytes",
        params: idParamsSchema,
        // Only the 200 is bytes; errors are JSON like everywhere else (`produces` would label them
        // application/octet-stream too). @fastify/swagger takes a response's `content` as given.
        response: {
          200: z.any().meta({
            description: "The artifact bytes, with the artifact's media type",
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          }),
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (request, reply) => {
      const artifact = await getArtifact(deps.db, request.params.id);
      if (!artifact) throw new PipewrightError('PW_ERR_ARTIFACT_NOT_FOUND', `artifact ${request.params.id} does not exist`);
      if (!(await deps.store.exists(artifact.uri))) {
        throw new PipewrightError('PW_ERR_ARTIFACT_NOT_FOUND', `the bytes of artifact ${artifact.id} are no longer in the store`);
      }
      const ext = EXTENSIONS[artifact.mediaType] ?? 'bin';
      const stream = await deps.store.openRead(artifact.uri);
      return reply
        .header('content-type', artifact.mediaType)
        .header('content-length', String(artifact.sizeBytes))
        .header('etag', `"${artifact.digest}"`)
        .header('content-disposition', `attachment; filename="${artifact.producedBy.stage}-${artifact.outputName}.${ext}"`)
        .send(stream);
    },
  );
}
