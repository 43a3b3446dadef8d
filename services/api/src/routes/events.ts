import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PipewrightError } from '@pipewright/core';
import { eq, runs } from '@pipewright/db';
import type { ApiDeps } from '../build-app.ts';
import { errorSchema, idParamsSchema } from '../api-schemas.ts';
import { getRunDetail } from '../queries/get-run-detail.ts';
import { getRunMetrics } from '../queries/get-run-metrics.ts';
import { toRunSummary } from '../queries/list-runs.ts';
import { ALL_RUNS, RunChangeHub, type RunChange } from './run-change-hub.ts';
import { openSseStream, type SseStream } from './sse-stream.ts';

const eventStream = (description: string) =>
  z.string().meta({
    description,
    content: { 'text/event-stream': { schema: { type: 'string', description } } },
  });

/**
 * One audience per run id (and one for every run): its SSE clients, and the chain of sends to
 * them. A change is read from the database once per audience and written to every client, in
 * the order the changes were announced.
 */
interface Audience {
  clients: Set<SseStream>;
  /** Clients and requests still opening: the audience unsubscribes when this drops to 0. */
  holds: number;
  /** Resolves once the hub listens for this audience. */
  subscribed: Promise<() => void>;
  chain: Promise<void>;
}

type OnChange = (audience: Audience, runId: string, changes: ReadonlySet<RunChange>, resync: boolean) => void;

/**
 * Server-sent events, driven by Postgres LISTEN on `pw_run_changed` (the engine notifies at
 * commit), one listener per API process (see RunChangeHub).
 */
export function registerEventRoutes(root: FastifyInstance, deps: ApiDeps): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const hub = new RunChangeHub({ source: deps.db, onError: (error) => app.log.warn({ err: error }, 'run change listener') });
  const audiences = new Map<string, Audience>();

  // SSE responses never end by themselves: end them before the server waits for its connections.
  app.addHook('preClose', async () => {
    for (const audience of audiences.values()) for (const client of audience.clients) client.close();
  });
  app.addHook('onClose', async () => hub.close());

  const enqueue = (audience: Audience, task: () => Promise<void>) => {
    audience.chain = audience.chain.then(task).catch((error: unknown) => app.log.warn({ err: error }, 'SSE send failed'));
  };
  const broadcast = (audience: Audience, event: string, data: unknown) => {
    for (const client of audience.clients) client.send(event, data);
  };

  const sendRun = async (audience: Audience, runId: string) => {
    if (audience.clients.size === 0) return;
    const detail = await getRunDetail(deps.db, runId);
    if (detail) broadcast(audience, 'run', detail);
  };
  const sendMetrics = async (audience: Audience, runId: string) => {
    if (audience.clients.size === 0) return;
    broadcast(audience, 'metrics', await getRunMetrics(deps.db, runId));
  };

  /**
   * Holds an audience, subscribing it to the hub when it is new, and resolves once the hub
   * listens: a read made after that misses no change. Pair with release().
   */
  const acquire = async (key: string, onChange: OnChange): Promise<Audience> => {
    let audience = audiences.get(key);
    if (!audience) {
      const created: Audience = { clients: new Set(), holds: 0, subscribed: Promise.resolve(() => {}), chain: Promise.resolve() };
      created.subscribed = hub.subscribe(key, (runId, changes, resync) => onChange(created, runId, changes, resync));
      audiences.set(key, created);
      audience = created;
    }
    audience.holds += 1;
    try {
      await audience.subscribed;
    } catch (error) {
      release(key, audience);
      throw new PipewrightError('PW_ERR_NOT_READY', 'cannot listen for run changes: the database does not answer', undefined, { cause: error });
    }
    return audience;
  };
  const release = (key: string, audience: Audience) => {
    audience.holds -= 1;
    if (audience.holds > 0) return;
    if (audiences.get(key) === audience) audiences.delete(key);
    audience.subscribed.then(
      (unsubscribe) => unsubscribe(),
      () => {},
    );
  };
  /** Opens the stream of a held audience; the client leaves (and releases) when it disconnects. */
  const attach = (key: string, audience: Audience, request: FastifyRequest, reply: FastifyReply): SseStream => {
    const client: SseStream = openSseStream(request, reply, () => {
      audience.clients.delete(client);
      release(key, audience);
    });
    audience.clients.add(client);
    return client;
  };

  app.get(
    '/v1/runs/:id/events',
    {
      schema: {
        tags: ['runs'],
        summary: "A run's changes as server-sent events",
        description:
          'A `text/event-stream`. On connect: `event: run` with the run detail (as GET /v1/runs/{id}) and `event: metrics` with its metrics (as GET /v1/runs/{id}/metrics). Then `run` again whenever its state changes and `metrics` whenever metric points arrive, each at most once per 200 ms. A comment line every 15 s keeps the connection open.',
        params: idParamsSchema,
        response: { 200: eventStream('Server-sent events: `run` (RunDetail JSON) and `metrics` (RunMetrics JSON)'), 400: errorSchema, 404: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      const runId = request.params.id;
      const [row] = await deps.db.select({ id: runs.id }).from(runs).where(eq(runs.id, runId));
      if (!row) throw new PipewrightError('PW_ERR_RUN_NOT_FOUND', `run ${runId} does not exist`);
      const audience = await acquire(runId, (a, id, changes) => {
        if (changes.has('state')) enqueue(a, () => sendRun(a, id));
        if (changes.has('metrics')) enqueue(a, () => sendMetrics(a, id));
      });
      const client = attach(runId, audience, request, reply);
      // The first state goes to this client only, in the audience's order.
      enqueue(audience, async () => {
        const [detail, metrics] = await Promise.all([getRunDetail(deps.db, runId), getRunMetrics(deps.db, runId)]);
        if (detail) client.send('run', detail);
        client.send('metrics', metrics);
      });
    },
  );

  app.get(
    '/v1/events',
    {
      schema: {
        tags: ['runs'],
        summary: 'Changes of every run as server-sent events',
        description:
          'A `text/event-stream` for overviews and run lists. On connect: `event: ready`. Then `event: run` with the run summary (as in GET /v1/runs) whenever a run changes state, at most once per run per 200 ms; `event: resync` when changes may have been missed (re-read what you show). Metric points are not announced here.',
        response: { 200: eventStream('Server-sent events: `ready`, `run` (RunSummary JSON), `resync`'), 503: errorSchema },
      },
    },
    async (request, reply) => {
      const audience = await acquire(ALL_RUNS, (a, runId, changes, resync) => {
        if (resync) {
          enqueue(a, async () => broadcast(a, 'resync', { at: new Date().toISOString() }));
          return;
        }
        if (!changes.has('state')) return;
        enqueue(a, async () => {
          if (a.clients.size === 0) return;
          const [run] = await deps.db.select().from(runs).where(eq(runs.id, runId));
          if (run) broadcast(a, 'run', toRunSummary(run));
        });
      });
      const client = attach(ALL_RUNS, audience, request, reply);
      client.send('ready', { at: new Date().toISOString() });
    },
  );
}
