import { NodePgSession, NodePgTransaction } from 'drizzle-orm/node-postgres';
import type { PgDialect } from 'drizzle-orm/pg-core';
import type { RelationalSchemaConfig, TablesRelationalConfig } from 'drizzle-orm/relations';
import type { Socket } from 'node:net';
import pg from 'pg';
import type { Database, DatabaseTransaction } from './open-database.ts';
import { sqlStateOf } from './sql-state.ts';
import { statementName, takeStaleStatements } from './statement-names.ts';

/**
 * Marks the body's next statement as its last: COMMIT is sent right behind it, in the same
 * round trip. A statement issued after that fails.
 */
export type CommitWithNextStatement = () => void;

/**
 * Runs `body` in a transaction whose BEGIN and COMMIT cost no round trip of their own: BEGIN is
 * written to the connection together with the body's first statement, and COMMIT together with
 * the statement the body marks as its last (node-postgres' pipeline mode; each statement keeps
 * its own Sync, so an error still ends only its own statement and aborts the transaction).
 *
 * Why: the orchestrator's apply is a short transaction of three statements on the hop's critical
 * path; a stand-alone BEGIN and COMMIT were two of its five round trips.
 *
 * Statements issued together also leave together, in one socket write (see
 * {@link writesTogether}): BEGIN with the first ones, COMMIT with the last.
 *
 * Its statements are named, so each connection parses and plans a text once (see
 * {@link statementName}).
 *
 * BEGIN does not wait for its answer. It fails only where the statements behind it fail too (a
 * lost connection, a server shutting down); its error, if any, is what the first statement's
 * result rejects with. On PGlite (one connection, in process: no round trips to save) this is a
 * plain transaction.
 */
export async function pipelinedTransaction<T>(db: Database, body: (tx: DatabaseTransaction, commitWithNextStatement: CommitWithNextStatement) => Promise<T>): Promise<T> {
  const pool = (db as { $client?: unknown }).$client;
  if (!(pool instanceof pg.Pool)) return db.transaction((tx) => body(tx, () => {}));

  const client = await pool.connect();
  // Pipeline mode is a constructor option of node-postgres' Client; it is switched here only on
  // an idle client (nothing queued or in flight) and back before the client returns to the pool,
  // so no other user of the pool ever sees a pipelined connection.
  setPipelined(client, true);
  const send = writesTogether(client);
  // Outside the transaction (before BEGIN, each its own Sync), in the same write as BEGIN.
  for (const name of takeStaleStatements(client)) handled(send(() => client.query(`deallocate ${name}`)));
  let begin: Promise<unknown> | undefined = handled(send(() => client.query('begin')));
  let commit: Promise<pg.QueryResult> | undefined;
  let commitNext = false;
  let broken: Error | undefined;

  const pipelinedClient = {
    query(config: pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> {
      if (commit) return Promise.reject(new Error('pipelinedTransaction: a statement after the one marked last (the transaction is committing)'));
      // Named: parsed and planned once per connection (see statement-names.ts).
      const name = config.name ?? statementName(client, config.text);
      const result = send(() => client.query(name === undefined ? config : { ...config, name }, values));
      if (commitNext) commit = handled(send(() => client.query('commit')));
      if (begin === undefined) return result;
      // Answers arrive in order: by the time this statement's does, BEGIN's has.
      const first = Promise.all([begin, result]).then(([, r]) => r);
      begin = undefined;
      return first;
    },
  };
  const tx = transactionOver(db, pipelinedClient);
  try {
    const value = await body(tx, () => {
      commitNext = true;
    });
    if (begin !== undefined) await begin; // the body sent no statement
    const committed = await (commit ?? send(() => client.query('commit')));
    // COMMIT in an aborted transaction is not an error: it answers ROLLBACK.
    if (committed.command !== 'COMMIT') throw new Error(`pipelinedTransaction: the transaction ended in ${committed.command}, not COMMIT`);
    return value;
  } catch (error) {
    await settle(begin);
    if (commit) await settle(commit);
    else await client.query('rollback').catch((e: Error) => (broken = e));
    // 26000, "prepared statement … does not exist": the server lost statements node-postgres
    // thinks it holds (a DISCARD ALL, a pooler). A new connection parses them again, where this
    // one would fail them on every retry.
    if (sqlStateOf(error) === '26000') broken ??= error as Error;
    throw error;
  } finally {
    setPipelined(client, false);
    client.release(broken);
  }
}

/**
 * Wraps the sending of statements so that those issued in one turn of the event loop leave in
 * one socket write. Pipeline mode sends each statement as it is issued: one write system call
 * each, and on loopback a write also runs the receiving side's TCP processing; an apply made 3
 * writes in its first round trip and 2 in its second. (A V8 profile put them at 15 % of the
 * orchestrator's busy time, but it counts waits for a core too: `perf` puts all of its system
 * calls at 6 % of its CPU; docs/performance.md, session 7.) The first statement corks the socket; it
 * is uncorked once every promise continuation queued by then has run (a tick queued from a
 * microtask runs after the microtask queue is drained), so statements issued after awaits in the
 * same turn (drizzle's query path) ride along, and nothing waits for I/O or a timer.
 */
function writesTogether(client: pg.PoolClient): <R>(issue: () => R) => R {
  const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
  let corked = false;
  return (issue) => {
    if (!corked) {
      corked = true;
      socket.cork();
      queueMicrotask(() =>
        process.nextTick(() => {
          corked = false;
          socket.uncork();
        }),
      );
    }
    return issue();
  };
}

/** Marks a statement's failure as handled: it is read later (or by another statement's answer). */
function handled<P extends Promise<unknown>>(statement: P): P {
  statement.catch(() => {});
  return statement;
}

/** Waits for a statement already sent, whatever its outcome (its error is someone else's). */
async function settle(statement: Promise<unknown> | undefined): Promise<void> {
  await statement?.then(
    () => undefined,
    () => undefined,
  );
}

function setPipelined(client: pg.PoolClient, on: boolean): void {
  (client as { pipeline: boolean }).pipeline = on;
}

interface DrizzleInternals {
  dialect: PgDialect;
  session: { options: object };
  _: { fullSchema: Record<string, unknown>; schema: TablesRelationalConfig; tableNamesMap: Record<string, string> };
}

/**
 * A drizzle transaction over `client`, built as drizzle's own `transaction()` builds one (a
 * session on the checked-out client, and a transaction object on it) but without its BEGIN and
 * COMMIT. Per call it costs two small objects; `drizzle()` itself would re-read the schema.
 */
function transactionOver(db: Database, client: { query: pg.PoolClient['query'] } | object): DatabaseTransaction {
  const internals = db as unknown as DrizzleInternals;
  const schema: RelationalSchemaConfig<TablesRelationalConfig> = {
    fullSchema: internals._.fullSchema,
    schema: internals._.schema,
    tableNamesMap: internals._.tableNamesMap,
  };
  const session = new NodePgSession(client as pg.PoolClient, internals.dialect, schema, internals.session.options);
  return new NodePgTransaction(internals.dialect, session, schema) as unknown as DatabaseTransaction;
}
