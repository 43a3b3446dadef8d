import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { App } from './build-app.ts';

/** The committed OpenAPI document, `services/api/openapi.json`. */
export const openApiFilePath = fileURLToPath(new URL('../openapi.json', import.meta.url));

/** The command that rewrites {@link openApiFilePath}; the drift test names it when it fails. */
export const openApiWriteCommand = 'npm run openapi -w services/api';

/** The document as committed: the app's /openapi.json, pretty-printed, with a final newline. */
export function renderOpenApiDocument(app: App): string {
  return `${JSON.stringify(app.swagger(), null, 2)}\n`;
}

/** The committed file as it is on disk. */
export function readOpenApiFile(): string {
  return readFileSync(openApiFilePath, 'utf8');
}
