import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * Names for the statements of pipelined transactions (the orchestrator's apply, the API's
 * submit), so that Postgres parses and plans each text once per connection and then runs a
 * cached plan.
 *
 * Why: these statements were planned on every execution. Planning took 0.2-1.2 ms per statement
 * (`pg_stat_statements`: the apply's lock 0.24 ms, its dependents read 0.36, its write statement
 * 0.4-1.2), against 0.01 ms named. In the benchmarks the submission rate rose by 24 %, throughput
 * by 5 % and the apply shortened by 0.4 ms (docs/performance.md, item 28).
 *
 * Why the name changes: after five executions Postgres settles on a statement's generic plan and
 * keeps it until the statistics of its tables change. A fresh database starts empty, so the first
 * generic plans are made for empty tables: sequential scans, which session 4 measured 25 times
 * slower once the tables had grown (the lock took 3.9 ms instead of 0.16). So a text's name
 * changes at its 2nd, 4th, 8th, … execution in this process (a new *generation*, up to
 * {@link LAST_GENERATION}, about a million executions): a new name is parsed and planned afresh,
 * for the tables as they are by then. The connection's previous name for the text is deallocated
 * by the connection's next transaction ({@link takeStaleStatements}), so a connection holds one
 * statement per text. Past the last generation, analyzes (autovacuum) are what make Postgres
 * re-plan.
 */

/** The generation a text's name stops changing at: its 2^20th execution in this process. */
const LAST_GENERATION = 20;
/** At most this many texts are named per process; any other runs unnamed (planned each time). */
const MAX_NAMED_TEXTS = 1_000;

interface NamedText {
  /** `pw_` and a digest of the text: the name without its generation. */
  base: string;
  executions: number;
}

const namedTexts = new Map<string, NamedText>();

interface ConnectionStatements {
  /** The name this connection last used for each text (by the text's base name). */
  current: Map<string, string>;
  /** Names superseded by a newer generation, to deallocate before the connection's next transaction. */
  stale: string[];
}

const byConnection = new WeakMap<pg.ClientBase, ConnectionStatements>();

/** The generation of a text's name at its `execution`th run (from 1): floor(log2), capped. */
export function nameGeneration(execution: number): number {
  return Math.min(Math.floor(Math.log2(Math.max(execution, 1))), LAST_GENERATION);
}

/**
 * The name to run `text` under on `client` this time, or undefined (run unnamed) once
 * {@link MAX_NAMED_TEXTS} other texts are named.
 */
export function statementName(client: pg.ClientBase, text: string): string | undefined {
  let named = namedTexts.get(text);
  if (!named) {
    if (namedTexts.size >= MAX_NAMED_TEXTS) return undefined;
    named = { base: `pw_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`, executions: 0 };
    namedTexts.set(text, named);
  }
  named.executions += 1;
  const name = `${named.base}_${nameGeneration(named.executions)}`;
  let statements = byConnection.get(client);
  if (!statements) {
    statements = { current: new Map(), stale: [] };
    byConnection.set(client, statements);
  }
  const previous = statements.current.get(named.base);
  if (previous !== name) {
    if (previous !== undefined) statements.stale.push(previous);
    statements.current.set(named.base, name);
  }
  return name;
}

/** What of node-postgres' connection this module reads: the names it has parsed on the server. */
interface ConnectionInternals {
  connection: { parsedStatements: Record<string, string> };
}

/**
 * The names of `client`'s statements that a newer generation superseded and that the server has
 * parsed, forgotten by node-postgres as they are returned: the caller deallocates them on the
 * server (`deallocate <name>`; our names need no quoting), with no transaction open.
 */
export function takeStaleStatements(client: pg.ClientBase): string[] {
  const statements = byConnection.get(client);
  if (!statements || statements.stale.length === 0) return [];
  const parsed = (client as unknown as ConnectionInternals).connection.parsedStatements;
  // A name the server never parsed (its statement failed first) is only forgotten.
  const stale = statements.stale.splice(0).filter((name) => parsed[name] !== undefined);
  for (const name of stale) delete parsed[name];
  return stale;
}
