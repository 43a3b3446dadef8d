/** The same server URL, pointing at another database. Keeps credentials and query (sslmode…). */
export function databaseUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Quotes an identifier for SQL that cannot take parameters (CREATE/DROP DATABASE). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
