import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableTarget } from '../table-io.ts';
import { createIngestCsvStage } from './ingest-csv.ts';

let dir: string;
let env: StageTestEnvironment;
const CSV = 'id,age,city,label\n1,31,Oslo,1\n2,,Bergen,0\n3,45.5,NA,1\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pw-ingest-'));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'people.csv'), CSV);
  await writeFile(join(dir, 'data', 'semi.csv'), 'a;b\n1;x\n2;y\n');
  await writeFile(join(dir, 'data', 'ragged.csv'), 'a,b\n1,2\n3\n');
  await writeFile(join(dir, 'data', 'empty.csv'), 'a,b\n');
  await writeFile(join(dir, 'secret.csv'), 'a,b\n1,2\n');
  await symlink(join(dir, 'secret.csv'), join(dir, 'data', 'link.csv'));
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  await env.dispose();
  await rm(dir, { recursive: true, force: true });
});

const stage = () => createIngestCsvStage({ baseDir: join(dir, 'data') });

describe('ingest.csv@1', () => {
  it('reads numeric columns as Float64 and the rest as Utf8, with missing values as nulls', async () => {
    const run = await env.run(stage(), { params: { path: 'people.csv', target: 'label' } });
    const data = run.outputs.data!;
    expect(data.metadata).toMatchObject({
      rows: 3,
      columns: ['id', 'age', 'city', 'label'],
      target: 'label',
      source: { path: 'people.csv', sha256: `sha256:${createHash('sha256').update(CSV).digest('hex')}` },
    });
    const table = await readTable(env.store, data);
    expect(table.schema.fields.map((f) => String(f.type))).toEqual(['Float64', 'Float64', 'Utf8', 'Float64']);
    expect(numericColumn(table, 'age')).toEqual([31, null, 45.5]);
    expect(table.getChild('city')!.toArray()).toEqual(['Oslo', 'Bergen', null]);
    expect(tableTarget(table)).toBe('label');
    expect(run.metrics).toEqual({ rows: 3, columns: 4 });
  });

  it('honours a delimiter', async () => {
    const run = await env.run(stage(), { params: { path: 'semi.csv', target: 'a', delimiter: ';' } });
    expect(run.outputs.data!.metadata).toMatchObject({ rows: 2, columns: ['a', 'b'] });
  });

  it('fails without retry when the target column is missing', async () => {
    await expect(env.run(stage(), { params: { path: 'people.csv', target: 'income' } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
      retryable: false,
    });
  });

  it('refuses paths that leave the data directory, including through symlinks', async () => {
    for (const path of ['../secret.csv', join(dir, 'secret.csv'), 'link.csv', '/etc/passwd']) {
      await expect(env.run(stage(), { params: { path, target: 'a' } })).rejects.toMatchObject({
        code: 'PW_ERR_BAD_PARAMS',
        retryable: false,
      });
    }
  });

  it('reports malformed and empty files as bad data, a missing file as bad params', async () => {
    await expect(env.run(stage(), { params: { path: 'ragged.csv', target: 'a' } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
    await expect(env.run(stage(), { params: { path: 'empty.csv', target: 'a' } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
    await expect(env.run(stage(), { params: { path: 'nope.csv', target: 'a' } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_PARAMS' });
  });

  it('has strict params', () => {
    expect(stage().params.safeParse({ path: 'a.csv', target: 't', extra: 1 }).success).toBe(false);
    expect(stage().params.safeParse({ path: 'a.csv' }).success).toBe(false);
  });
});
