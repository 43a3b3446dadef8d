import { describe, expect, it } from 'vitest';
import { expandQueueSelection, stageQueueName, workerKeyPattern } from './queue-names.ts';

describe('queue names', () => {
  it('names one queue per family and resource class', () => {
    expect(stageQueueName('train', 'gpu')).toBe('stage-train-gpu');
  });

  it('expands cpu, gpu and all over the families, and keeps explicit names', () => {
    expect(expandQueueSelection(['cpu'], ['ingest', 'train'])).toEqual(['stage-ingest-cpu', 'stage-train-cpu']);
    expect(expandQueueSelection(['gpu', 'stage-ingest-cpu'], ['train'])).toEqual(['stage-ingest-cpu', 'stage-train-gpu']);
    expect(expandQueueSelection(['all'], ['train'])).toEqual(['stage-train-cpu', 'stage-train-gpu']);
  });

  it('refuses a queue it does not know, naming it', () => {
    expect(() => expandQueueSelection(['cpu', 'trian'], ['train'])).toThrow(/unknown queue "trian"/);
  });

  it('escapes the glob characters of a prefix in the worker scan pattern', () => {
    expect(workerKeyPattern('{pw}')).toBe('{pw}:workers:*');
    expect(workerKeyPattern('{a*b}')).toBe('{a\\*b}:workers:*');
  });
});
