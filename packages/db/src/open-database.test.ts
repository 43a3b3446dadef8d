import { describe, expect, inject, it } from 'vitest';
import { executeRows } from './execute-rows.ts';
import { sql } from './index.ts';
import { openDatabase } from './open-database.ts';

const settings = async (url: string) => {
  const handle = await openDatabase({ url }, { poolSize: 1 });
  try {
    const [row] = await executeRows<{ jit: string; workers: string; search_path: string }>(
      handle.db,
      sql`select current_setting('jit') as jit, current_setting('max_parallel_workers_per_gather') as workers, current_setting('search_path') as search_path`,
    );
    return row;
  } finally {
    await handle.close();
  }
};

describe('openDatabase on node-postgres', () => {
  it('opens sessions without JIT or parallel plans (short statements only pay their start-up)', async () => {
    expect(await settings(inject('pwDatabaseUrl'))).toMatchObject({ jit: 'off', workers: '0' });
  });

  it("keeps a URL's own options instead", async () => {
    const url = new URL(inject('pwDatabaseUrl'));
    url.searchParams.set('options', '-c search_path=public');
    const row = await settings(url.toString());
    expect(row?.search_path).toBe('public');
  });
});
