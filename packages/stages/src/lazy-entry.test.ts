import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every module a static import reaches from `file`, and the packages (bare specifiers) they
 * import. `import type` and `export type` are erased at run time and `import()` is deferred, so
 * neither counts.
 */
function staticImportGraph(file: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (path: string) => {
    if (files.has(path)) return;
    files.add(path);
    const source = readFileSync(path, 'utf8');
    const statements = /^\s*(?:import|export)\s+(?!type\b)(?:[^;'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
    for (const [, specifier] of source.matchAll(statements)) {
      if (specifier!.startsWith('.')) visit(resolve(dirname(path), specifier!));
      else packages.add(specifier!);
    }
  };
  visit(file);
  return { files: [...files], packages: [...packages].sort() };
}

describe('@pipewright/stages/lazy', () => {
  it('imports no stage implementation, only Node built-ins, when a worker starts', () => {
    const entry = fileURLToPath(new URL('./lazy.ts', import.meta.url));
    const { files, packages } = staticImportGraph(entry);
    // TensorFlow.js, Arrow, csv-parse, pg and the stage modules cost ~50 MB of RSS to import;
    // the worker pulls them in with the first job that needs them.
    expect(packages.filter((p) => !p.startsWith('node:'))).toEqual([]);
    expect(files.some((f) => f.includes('/builtin/'))).toBe(false);
    expect(files.length).toBeGreaterThan(3);
  });

  it('is the entry the package exports as ./lazy', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, string> };
    expect(manifest.exports['./lazy']).toBe('./src/lazy.ts');
  });
});
