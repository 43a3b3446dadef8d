import { describe, expect, it } from 'vitest';
import { builtinStages } from './builtin-stages.ts';
import { lazyBuiltinStages } from './builtin-stage-loaders.ts';

describe('lazyBuiltinStages', () => {
  it('lists exactly the stages createBuiltinStages defines, and loads each as the same descriptor', async () => {
    const lazy = lazyBuiltinStages();
    expect(lazy.types()).toEqual(builtinStages.map((d) => d.type).sort());
    for (const eager of builtinStages) {
      const loaded = await lazy.load(eager.type);
      const { run: _run, params: _params, ...descriptor } = eager;
      expect(loaded, eager.type).toMatchObject(descriptor);
      expect(typeof loaded?.run).toBe('function');
      expect(loaded?.params.safeParse({ surely_not_a_param: 1 }).success, eager.type).toBe(false);
    }
  });

  it('imports a stage once, shared by concurrent first calls, and knows no other type', async () => {
    const lazy = lazyBuiltinStages();
    const [a, b] = [lazy.load('util.noop@1'), lazy.load('util.noop@1')];
    expect(a).toBe(b);
    expect(await lazy.load('util.noop@1')).toBe(await a);
    expect(lazy.load('util.noop@2')).toBeUndefined();
    expect(lazy.load('constructor')).toBeUndefined();
  });

  it('hands the file ingest stages their data directory', async () => {
    const lazy = lazyBuiltinStages({ dataDir: '/nonexistent-data-root' });
    for (const type of ['ingest.csv@1', 'ingest.json@1']) {
      const stage = await lazy.load(type);
      const params = stage!.params.parse({ path: 'x.csv', target: 'y' });
      const failure = await stage!.run({ params } as never).then(() => undefined, (e: unknown) => e);
      expect(String(failure), type).toMatch(/data directory \/nonexistent-data-root does not exist/);
    }
  });
});
