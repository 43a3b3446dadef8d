import { cpus, totalmem, release, platform } from 'node:os';
import { Redis } from 'ioredis';
import { REDIS_URL } from './context.ts';
import { adminQuery } from './databases.ts';

export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  os: string;
  node: string;
  postgres: string;
  redis: string;
  date: string;
  load: string;
}

export async function describeMachine(): Promise<Machine> {
  const list = cpus();
  let postgres = '?';
  let redis = '?';
  try {
    postgres = (await adminQuery<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v;
    const s = (await adminQuery<{ name: string; setting: string }>(`select name, setting from pg_settings where name in ('synchronous_commit', 'shared_buffers', 'max_connections')`)).rows;
    postgres += ` (${s.map((r) => `${r.name}=${r.setting}`).join(', ')})`;
  } catch {
    // reported as '?'
  }
  try {
    const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    const info = await client.info('server');
    redis = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    await client.quit();
  } catch {
    // reported as '?'
  }
  const { loadavg } = await import('node:os');
  return {
    cpu: list[0]?.model.trim() ?? '?',
    cores: list.length,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: `${platform()} ${release()}`,
    node: process.version,
    postgres,
    redis,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    load: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
