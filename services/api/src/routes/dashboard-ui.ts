import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build -w services/dashboard` writes the dashboard. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));

const BUILD_COMMAND = 'npm run build -w services/dashboard';

/**
 * Serves the dashboard build at /ui/: files as they are on disk (so a build made after the API
 * started is served), and index.html for every other path without a file extension, which is a
 * client-side route (/ui/runs/…). Hashed assets are cached for a year; index.html never is.
 * Without a build, /ui answers a 404 error that says how to make one.
 */
export async function registerDashboardRoutes(app: FastifyInstance, options: { dir?: string } = {}): Promise<void> {
  const root = options.dir ?? DEFAULT_DASHBOARD_DIR;
  const indexFile = join(root, 'index.html');
  await app.register(
    async (scope) => {
      const cacheControl = (path: string) => (/(^|[\\/])assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      const setHeaders = (res: { setHeader(name: string, value: string): unknown }, path: string) => {
        res.setHeader('cache-control', cacheControl(path));
      };
      const index = (_request: FastifyRequest, reply: FastifyReply) => {
        if (!existsSync(indexFile)) return reply.callNotFound();
        return reply.header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });
      };
      if (existsSync(root)) {
        await scope.register(fastifyStatic, { root, prefix: '/', wildcard: true, index: ['index.html'], cacheControl: false, setHeaders });
        // /ui/ itself (the wildcard covers it too, but a route of its own keeps the route table
        // readable); /ui without the slash is redirected by the not-found handler.
        scope.get('/', { schema: { hide: true }, prefixTrailingSlash: 'slash' }, index);
      } else {
        // Not built yet: answer from the disk per request, so that a build made later is served.
        await scope.register(fastifyStatic, { serve: false });
        const serve = async (request: FastifyRequest, reply: FastifyReply) => {
          const file = (request.params as { '*'?: string })['*'] || 'index.html';
          if (file === 'index.html') return index(request, reply);
          if (!existsSync(join(root, file))) return reply.callNotFound();
          return reply.header('cache-control', cacheControl(file)).sendFile(file, root, { cacheControl: false });
        };
        scope.get('/', { schema: { hide: true }, prefixTrailingSlash: 'slash' }, index);
        scope.get('/*', { schema: { hide: true } }, serve);
      }
      scope.setNotFoundHandler(async (request, reply) => {
        const path = request.url.split('?')[0] ?? '';
        if (path === '/ui') return reply.redirect('/ui/');
        if (!existsSync(indexFile)) {
          return reply.status(404).send({ code: 'PW_ERR_NOT_FOUND', message: `the dashboard is not built: run \`${BUILD_COMMAND}\`, then reload /ui/` });
        }
        if ((request.method === 'GET' || request.method === 'HEAD') && !/\.[A-Za-z0-9]+$/.test(path)) {
          return reply.header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });
        }
        return reply.status(404).send({ code: 'PW_ERR_NOT_FOUND', message: `no dashboard file ${path}` });
      });
    },
    { prefix: '/ui' },
  );
}
