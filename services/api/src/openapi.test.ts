import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiFilePath, openApiWriteCommand, readOpenApiFile, renderOpenApiDocument } from './openapi-file.ts';
import { createTestApi, registeredRoutes, type TestApi } from './test-app.ts';

interface SchemaObject {
  $ref?: string;
  type?: string;
  properties?: Record<string, SchemaObject>;
  required?: string[];
}
interface Operation {
  summary?: string;
  responses: Record<string, { content?: Record<string, { schema?: SchemaObject }> }>;
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, SchemaObject> };
}

/** Routes that are deliberately not in the document: the document itself and its UI, and the dashboard's files. */
const UNDOCUMENTED = (url: string) => url === '/openapi.json' || url === '/docs' || url.startsWith('/docs/') || url === '/ui' || url.startsWith('/ui/');
/** Routes that cannot fail with a client error, so have no 4xx answer to document. */
const NO_CLIENT_ERRORS = new Set(['GET /healthz', 'GET /readyz', 'GET /v1/workers', 'GET /v1/stage-types', 'GET /v1/queues', 'GET /v1/events']);

let api: TestApi;
let doc: OpenApiDocument;

beforeAll(async () => {
  api = await createTestApi();
  const response = await api.inject('/openapi.json');
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  doc = response.json<OpenApiDocument>();
});
afterAll(() => api.close());

function operations(): { key: string; operation: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, operation })),
  );
}

function resolve(schema: SchemaObject | undefined): SchemaObject | undefined {
  const ref = schema?.$ref;
  if (!ref) return schema;
  const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
  return name ? doc.components.schemas[name] : undefined;
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3 document', () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info).toMatchObject({ title: 'Pipewright API', version: expect.any(String) });
  });

  it('documents every route the app registers, and no other', () => {
    const registered = registeredRoutes(api.app)
      // fastify adds a HEAD route to every GET route by itself.
      .filter((r) => r.method !== 'HEAD' && !UNDOCUMENTED(r.url))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`);
    expect(registered.length).toBeGreaterThanOrEqual(11);
    expect(operations().map((o) => o.key).sort()).toEqual([...new Set(registered)].sort());
  });

  it('reads the registered routes correctly (the parser of printRoutes)', () => {
    const routes = registeredRoutes(api.app).map((r) => `${r.method} ${r.url}`);
    expect(routes).toEqual(expect.arrayContaining(['POST /v1/runs', 'GET /v1/runs/:id/lineage', 'GET /v1/artifacts/:id/content', 'GET /openapi.json', 'GET /docs']));
  });

  it('gives every operation a summary and documents its client errors with the Error schema as JSON', () => {
    const error = doc.components.schemas.Error;
    expect(error?.required).toEqual(expect.arrayContaining(['code', 'message']));
    expect(error?.properties?.code?.type).toBe('string');
    expect(error?.properties?.message?.type).toBe('string');
    for (const { key, operation } of operations()) {
      expect(operation.summary, `${key} has no summary`).toBeTruthy();
      const clientErrors = Object.entries(operation.responses).filter(([status]) => /^4\d\d$/.test(status));
      if (NO_CLIENT_ERRORS.has(key)) continue;
      expect(clientErrors.length, `${key} documents no 4xx answer`).toBeGreaterThan(0);
      for (const [status, response] of clientErrors) {
        // The error handler answers JSON whatever the route's success media type.
        const schema = resolve(response.content?.['application/json']?.schema);
        expect(schema, `${key} ${status} is not documented as application/json`).toBeDefined();
        expect(schema?.required, `${key} ${status} is not the Error shape`).toEqual(expect.arrayContaining(['code', 'message']));
        expect(Object.keys(schema?.properties ?? {}).sort(), `${key} ${status} is not the Error shape`).toEqual(['code', 'details', 'message']);
      }
    }
  });

  it('documents the status of every error an id route answers', () => {
    for (const path of ['/v1/runs/{id}', '/v1/runs/{id}/lineage', '/v1/runs/{id}/metrics', '/v1/artifacts/{id}', '/v1/artifacts/{id}/content']) {
      expect(Object.keys(doc.paths[path]?.get?.responses ?? {}), path).toEqual(expect.arrayContaining(['200', '400', '404']));
    }
    expect(Object.keys(doc.paths['/v1/runs']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '413', '415']));
  });

  it('has every $ref resolve to a component', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) expect(resolve({ $ref: ref }), ref).toBeDefined();
  });
});

describe('GET /docs', () => {
  it('answers the Swagger UI as HTML, following a redirect if any', async () => {
    let response = await api.inject('/docs');
    for (let hops = 0; hops < 3 && response.statusCode >= 300 && response.statusCode < 400; hops += 1) {
      const location = String(response.headers.location ?? '');
      response = await api.inject(new URL(location, 'http://localhost/docs').pathname);
    }
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toMatch(/swagger/i);
  });
});

describe('services/api/openapi.json', () => {
  it('is what buildApp publishes (run the command in the message to refresh it)', () => {
    let committed: string;
    try {
      committed = readOpenApiFile();
    } catch {
      throw new Error(`${openApiFilePath} is missing: run \`${openApiWriteCommand}\` and commit it`);
    }
    const current = renderOpenApiDocument(api.app);
    expect(current, `${openApiFilePath} is out of date with the routes: run \`${openApiWriteCommand}\` and commit it`).toBe(committed);
  });

  it('is deterministic: the same for another app with other deps, and equal to /openapi.json', async () => {
    const other = await createTestApi({ bodyLimitBytes: 1024 * 1024 });
    try {
      expect(renderOpenApiDocument(other.app)).toBe(renderOpenApiDocument(api.app));
    } finally {
      await other.close();
    }
    expect(JSON.parse(renderOpenApiDocument(api.app))).toEqual(doc);
    expect(renderOpenApiDocument(api.app)).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  });
});
