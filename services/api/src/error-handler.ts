import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { PipewrightError } from '@pipewright/core';

/** Fastify's own 4xx codes, mapped to ours so every answer has `{ code, message, details? }`. */
const FASTIFY_CODES: Record<string, { code: string; status: number }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'PW_ERR_UNSUPPORTED_MEDIA_TYPE', status: 415 },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PW_ERR_PAYLOAD_TOO_LARGE', status: 413 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'PW_ERR_VALIDATION', status: 400 },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'PW_ERR_VALIDATION', status: 400 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'PW_ERR_VALIDATION', status: 400 },
};

/**
 * One place turns anything thrown in a route into the error shape. A 5xx answers a generic
 * message and logs the real one: internals never leak to clients.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof PipewrightError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, 'request failed');
      return reply.status(error.statusCode).send({ code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const problems = error.validation.map((v) => {
        const field = [error.validationContext, ...v.instancePath.split('/').filter(Boolean)].filter(Boolean).join('.');
        return { field, message: v.message ?? 'is invalid' };
      });
      return reply.status(400).send({
        code: 'PW_ERR_VALIDATION',
        message: problems.map((p) => `${p.field}: ${p.message}`).join('; '),
        details: { problems },
      });
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped) return reply.status(mapped.status).send({ code: mapped.code, message: error.message });
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ code: 'PW_ERR_VALIDATION', message: error.message });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ code: 'PW_ERR_INTERNAL', message: 'internal error; the server log has the details' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: 'PW_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
}
