/**
 * The SQLSTATE of a Postgres error (`23503`, `26000`, …), whether node-postgres threw it or drizzle
 * wrapped it (drizzle's query error keeps the driver's as `cause`); undefined for anything else.
 */
export function sqlStateOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | null | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}
