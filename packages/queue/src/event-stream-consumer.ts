import type { Redis } from 'ioredis';
import { stageEventSchema, type StageEvent } from './job-catalog.ts';
import { EVENT_FIELD, EVENTS_GROUP, EVENTS_HANDLED_TTL_SEC, eventsHandledKey, eventStreamKey, eventStreamPausedKey } from './queue-names.ts';

export interface EventStreamConsumerOptions {
  /** Used only for XREADGROUP, which blocks; owned by the consumer: `stop` disconnects it. */
  blockingConnection: Redis;
  /** For acknowledgements, claims and the pause flag; may be shared. */
  connection: Redis;
  prefix: string;
  /** Unique per process: the entries a dead consumer held are claimed by the live ones. */
  consumer: string;
  /** Applies one event; resolves once it is durable (then the entry is acknowledged). */
  handle(event: StageEvent): Promise<void>;
  /** A handler failure (the entry stays pending and is claimed again), a poison entry, a Redis error. */
  onError(error: unknown, context: 'read' | 'apply' | 'poison' | 'ack' | 'claim'): void;
  /** Entries being handled at once. @defaultValue 512 */
  maxInFlight?: number;
  /** Entries taken per XREADGROUP. @defaultValue 256 */
  readCount?: number;
  /** How long one XREADGROUP waits for new entries. @defaultValue 2000 */
  blockMs?: number;
  /** An entry pending this long (its consumer died, or its apply failed) is taken over. @defaultValue 15000 */
  claimIdleMs?: number;
  /** How often pending entries are looked for. @defaultValue 5000 */
  claimIntervalMs?: number;
  /** How often the pause flag is read. @defaultValue 1000 */
  pauseCheckMs?: number;
}

/**
 * How long a busy consumer waits before its next read. Reading again at once cost about a round
 * trip per event in the 1,000-way fan-out (XREADGROUP's socket writes were 4 % of its CPU
 * profile); with the pause it took 2.35-2.45 s instead of 2.58-2.67 s, and the hop did not move.
 */
const BUSY_READ_PAUSE_MS = 2;

/** Tries of one apply in this process before its entry is left for a claim. */
const APPLY_ATTEMPTS = 4;

/** A consumer with nothing pending and idle this long is dropped from the group (a dead process). */
const DEAD_CONSUMER_IDLE_MS = 10 * 60_000;

/**
 * Reads stage events from the events stream as one of the orchestrators' consumer group, hands
 * each to `handle` (up to `maxInFlight` at once, so the caller can batch them), and acknowledges
 * and deletes an entry once its handler resolved. Delivery is at least once: an entry whose
 * handler failed, or whose consumer was killed, stays pending and is claimed again after
 * `claimIdleMs`; handlers must be idempotent (applying an event is). A stream or group that
 * vanished (Redis flushed) is created again; what it held is the reconciler's to recover.
 */
export class EventStreamConsumer {
  private readonly key: string;
  private readonly inFlight = new Set<string>();
  private toAck: string[] = [];
  private ackFlush: Promise<void> | undefined;
  private stopping = false;
  private paused = false;
  private loopDone: Promise<void> = Promise.resolve();
  private roomWaiter: (() => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private lastConsumerSweep = 0;
  private claiming = false;
  private lastReadCount = 0;

  constructor(private readonly options: EventStreamConsumerOptions) {
    this.key = eventStreamKey(options.prefix);
  }

  start(): this {
    this.loopDone = this.readLoop();
    this.timers.push(setInterval(() => void this.claimPending(), this.options.claimIntervalMs ?? 5000));
    this.timers.push(setInterval(() => void this.checkPaused(), this.options.pauseCheckMs ?? 1000));
    void this.checkPaused();
    return this;
  }

  /** Stops reading, waits for the handlers in flight and their acknowledgements. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.roomWaiter?.();
    // Interrupts a blocked XREADGROUP; what it would have returned stays in the stream.
    this.options.blockingConnection.disconnect();
    await this.loopDone;
    while (this.inFlight.size > 0) await new Promise<void>((resolve) => (this.roomWaiter = resolve));
    await this.flushAcks();
  }

  private async readLoop(): Promise<void> {
    const { blockingConnection, consumer } = this.options;
    const maxInFlight = this.options.maxInFlight ?? 512;
    while (!this.stopping) {
      try {
        if (this.paused) {
          await sleep(this.options.pauseCheckMs ?? 1000);
          continue;
        }
        const room = maxInFlight - this.inFlight.size;
        if (room <= 0) {
          await new Promise<void>((resolve) => (this.roomWaiter = resolve));
          continue;
        }
        // Busy (events in hand): let the next ones gather for a moment, one read for many. Idle:
        // read at once, so a chain's next result is not delayed.
        if (this.inFlight.size > 0 && this.lastReadCount < (this.options.readCount ?? 256)) await sleep(BUSY_READ_PAUSE_MS);
        const count = Math.min(this.options.readCount ?? 256, room);
        const reply = (await blockingConnection.xreadgroup(
          'GROUP', EVENTS_GROUP, consumer, 'COUNT', count, 'BLOCK', this.options.blockMs ?? 2000, 'STREAMS', this.key, '>',
        )) as [string, [string, string[]][]][] | null;
        this.lastReadCount = 0;
        for (const [, entries] of reply ?? []) {
          this.lastReadCount += entries.length;
          for (const [id, fields] of entries) this.dispatch(id, fields);
        }
      } catch (error) {
        if (this.stopping) break;
        if (isNoGroup(error)) {
          await this.ensureGroup().catch((e: unknown) => this.options.onError(e, 'read'));
          continue;
        }
        this.options.onError(error, 'read');
        await sleep(500);
      }
    }
  }

  /** Creates the stream and the group if missing; from id 0, so nothing already added is skipped. */
  private async ensureGroup(): Promise<void> {
    try {
      await this.options.connection.xgroup('CREATE', this.key, EVENTS_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
  }

  private dispatch(id: string, fields: string[] | null): void {
    // Claimed again while this process still applies it (a slow apply): one apply is enough.
    if (this.inFlight.has(id) || !fields) return;
    const raw = fields[fields.indexOf(EVENT_FIELD) + 1];
    let event: StageEvent;
    try {
      event = stageEventSchema.parse(JSON.parse(raw ?? ''));
    } catch (error) {
      // Not an event this version can read: retrying cannot help, so it is reported and dropped.
      this.options.onError(Object.assign(new Error(`events stream entry ${id} is not a stage event: ${(error as Error).message}`), { entry: raw }), 'poison');
      this.ack(id);
      return;
    }
    this.inFlight.add(id);
    this.handleWithRetries(event).then(
      () => this.ack(id),
      // Left pending: claimed again after claimIdleMs, by this process or another.
      (error: unknown) => this.options.onError(error, 'apply'),
    ).finally(() => {
      this.inFlight.delete(id);
      const wake = this.roomWaiter;
      this.roomWaiter = undefined;
      wake?.();
    });
  }

  /**
   * A failed apply is tried again at once, a few times with backoff (a deadlock victim, a dropped
   * connection), before it is left pending for the slower claim.
   */
  private async handleWithRetries(event: StageEvent): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.options.handle(event);
      } catch (error) {
        if (attempt >= APPLY_ATTEMPTS || this.stopping) throw error;
        await sleep(200 * 2 ** (attempt - 1));
      }
    }
  }

  /**
   * Acknowledgements of one tick go out together: one XACK and one XDEL for all of them, and the
   * count of this second's handled events (operators' throughput) in the same round trip.
   */
  private ack(id: string): void {
    this.toAck.push(id);
    this.ackFlush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushAcks());
  }

  private async flushAcks(): Promise<void> {
    this.ackFlush = undefined;
    const ids = this.toAck;
    this.toAck = [];
    if (ids.length === 0) return;
    try {
      const handled = eventsHandledKey(this.options.prefix, Math.floor(Date.now() / 1000));
      await this.options.connection
        .pipeline()
        .xack(this.key, EVENTS_GROUP, ...ids)
        .xdel(this.key, ...ids)
        .incrby(handled, ids.length)
        .expire(handled, EVENTS_HANDLED_TTL_SEC)
        .exec();
    } catch (error) {
      // Unacknowledged entries are claimed and applied again: harmless, applying is idempotent.
      this.options.onError(error, 'ack');
    }
  }

  /** Takes over entries pending too long: their consumer died, or their apply failed. */
  private async claimPending(): Promise<void> {
    if (this.stopping || this.claiming || this.paused) return;
    this.claiming = true;
    const { connection, consumer } = this.options;
    const maxInFlight = this.options.maxInFlight ?? 512;
    try {
      let cursor = '0-0';
      do {
        const [next, entries] = (await connection.xautoclaim(this.key, EVENTS_GROUP, consumer, this.options.claimIdleMs ?? 15_000, cursor, 'COUNT', 256)) as [
          string,
          ([string, string[]] | null)[],
        ];
        for (const entry of entries) if (entry) this.dispatch(entry[0], entry[1]);
        cursor = next;
      } while (cursor !== '0-0' && !this.stopping && this.inFlight.size < maxInFlight);
      await this.sweepDeadConsumers();
    } catch (error) {
      if (isNoGroup(error)) await this.ensureGroup().catch(() => undefined);
      else this.options.onError(error, 'claim');
    } finally {
      this.claiming = false;
    }
  }

  /** Every killed orchestrator leaves a consumer name behind; drop those with nothing pending. */
  private async sweepDeadConsumers(): Promise<void> {
    if (Date.now() - this.lastConsumerSweep < 60_000) return;
    this.lastConsumerSweep = Date.now();
    const rows = (await this.options.connection.xinfo('CONSUMERS', this.key, EVENTS_GROUP)) as unknown[][];
    for (const row of rows) {
      const info = pairs(row);
      if (info['name'] !== this.options.consumer && Number(info['pending']) === 0 && Number(info['idle']) > DEAD_CONSUMER_IDLE_MS) {
        await this.options.connection.xgroup('DELCONSUMER', this.key, EVENTS_GROUP, String(info['name']));
      }
    }
  }

  private async checkPaused(): Promise<void> {
    try {
      this.paused = (await this.options.connection.exists(eventStreamPausedKey(this.options.prefix))) === 1;
    } catch {
      // Redis is away: the read loop reports it.
    }
  }
}

export interface EventStreamStats {
  /** Entries no orchestrator has taken yet. */
  waiting: number;
  /** Entries taken and not yet acknowledged (being applied, or held by a dead orchestrator). */
  active: number;
  paused: boolean;
  /** Events handled (applied, or dropped as unreadable) in the last 60 seconds. */
  handledLastMinute: number;
}

/** The events stream's depth and throughput for operators: XLEN, XINFO GROUPS and one MGET. */
export async function readEventStreamStats(connection: Redis, prefix: string): Promise<EventStreamStats> {
  const key = eventStreamKey(prefix);
  const second = Math.floor(Date.now() / 1000);
  const lastMinute = Array.from({ length: 60 }, (_, i) => eventsHandledKey(prefix, second - i));
  const [length, groups, paused, handled] = await Promise.all([
    connection.xlen(key),
    (connection.xinfo('GROUPS', key) as Promise<unknown[][]>).catch(() => [] as unknown[][]),
    connection.exists(eventStreamPausedKey(prefix)),
    connection.mget(lastMinute),
  ]);
  const group = groups.map(pairs).find((g) => g['name'] === EVENTS_GROUP);
  const active = Number(group?.['pending'] ?? 0);
  // Acknowledged entries are deleted, so the stream holds exactly the unacknowledged ones.
  return { waiting: Math.max(0, length - active), active, paused: paused === 1, handledLastMinute: handled.reduce((sum, n) => sum + Number(n ?? 0), 0) };
}

function pairs(row: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < row.length; i += 2) out[String(row[i])] = row[i + 1];
  return out;
}

function isNoGroup(error: unknown): boolean {
  return String((error as Error | null)?.message ?? '').includes('NOGROUP');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
