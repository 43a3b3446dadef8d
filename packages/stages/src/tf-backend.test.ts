import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadTensorflow } from './tf-backend.ts';

const run = promisify(execFile);

describe('loadTensorflow', () => {
  it('activates the fastest backend that loads, once per process', async () => {
    const first = await loadTensorflow();
    expect(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).toContain(first.backend);
    // The chosen backend is the active one, and it computes.
    expect(first.tf.getBackend()).toBe(first.backend.startsWith('tensorflow') ? 'tensorflow' : first.backend);
    expect(Array.from(await first.tf.add(first.tf.tensor1d([1, 2]), 1).data())).toEqual([2, 3]);
    // Native bindings that are not installed are skipped, not fatal.
    for (const skipped of first.skipped) expect(['tensorflow-gpu', 'tensorflow', 'wasm']).toContain(skipped.backend);

    const second = await loadTensorflow({ prefer: 'cpu' });
    expect(second).toBe(first);
  });

  it('honours prefer and strict (in a fresh process: the choice is made once per process)', async () => {
    const module = fileURLToPath(new URL('./tf-backend.ts', import.meta.url));
    const script = `
      const { loadTensorflow } = await import(${JSON.stringify(module)});
      const refused = await loadTensorflow({ prefer: 'tensorflow', strict: true }).then(() => 'loaded', (e) => e.message);
      const { tf, backend } = await loadTensorflow({ prefer: 'cpu', strict: true });
      const sum = Array.from(await tf.add(tf.tensor1d([1, 2]), 1).data());
      console.log(JSON.stringify({ refused, backend, active: tf.getBackend(), sum }));
    `;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(result.refused).toMatch(/no TensorFlow.js backend could be loaded: tensorflow/);
    expect(result).toMatchObject({ backend: 'cpu', active: 'cpu', sum: [2, 3] });
  }, 30_000);
});
