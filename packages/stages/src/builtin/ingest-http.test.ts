import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageTestEnvironment } from '../testing/stage-test-environment.ts';
import { numericColumn, readTable, tableTarget } from '../table-io.ts';
import { createIngestHttpStage } from './ingest-http.ts';

const CSV = 'x,city,label\n1.5,Oslo,1\n2,,0\n';
let server: Server;
let base: string;
let port: number;
let env: StageTestEnvironment;
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    const url = req.url ?? '/';
    if (url === '/data.csv') {
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' }).end(CSV);
    } else if (url === '/data.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ a: 1, y: 0 }, { a: 2, y: 1 }]));
    } else if (url === '/data.jsonl') {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end('{"a":1,"y":0}\n{"a":3,"y":1}\n');
    } else if (url === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    } else if (url === '/big-chunked') {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('a,y\n');
      for (let i = 0; i < 2000; i++) res.write('1,0\n'.repeat(50));
      res.end();
    } else if (url === '/big-declared') {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(50 * 1024 * 1024) });
      res.write('a,y\n');
      // Never finishes: the stage must give up on the header alone.
    } else if (url === '/slow') {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('a,y\n1,0\n');
      // Stalls.
    } else if (url === '/redirect-ok') {
      res.writeHead(302, { location: '/data.csv' }).end();
    } else if (url === '/redirect-private') {
      res.writeHead(302, { location: 'http://10.0.0.1/data.csv' }).end();
    } else if (url === '/redirect-localhost') {
      res.writeHead(307, { location: `http://localhost:${port}/data.csv` }).end();
    } else if (url === '/loop') {
      res.writeHead(302, { location: '/loop' }).end();
    } else if (url === '/error') {
      res.writeHead(503).end('try later');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  env = await StageTestEnvironment.create();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await env.dispose();
});

const allowed = () => createIngestHttpStage({ allowHosts: ['127.0.0.1'] });

describe('ingest.http@1', () => {
  it('downloads CSV from an allow-listed host into a typed table', async () => {
    const run = await env.run(allowed(), { params: { url: `${base}/data.csv`, target: 'label' } });
    const table = await readTable(env.store, run.outputs.data!);
    expect(numericColumn(table, 'x')).toEqual([1.5, 2]);
    expect(table.getChild('city')!.toArray()).toEqual(['Oslo', null]);
    expect(tableTarget(table)).toBe('label');
    expect(run.outputs.data!.metadata).toMatchObject({
      source: { url: `${base}/data.csv`, contentType: 'text/csv', format: 'csv', bytes: CSV.length },
    });
    expect(run.metrics).toMatchObject({ rows: 2, bytes: CSV.length });
  });

  it('picks JSON and JSON Lines by Content-Type, and follows redirects', async () => {
    const json = await env.run(allowed(), { params: { url: `${base}/data.json`, target: 'y' } });
    expect(numericColumn(await readTable(env.store, json.outputs.data!), 'a')).toEqual([1, 2]);
    const jsonl = await env.run(allowed(), { params: { url: `${base}/data.jsonl`, target: 'y' } });
    expect(numericColumn(await readTable(env.store, jsonl.outputs.data!), 'a')).toEqual([1, 3]);
    const redirected = await env.run(allowed(), { params: { url: `${base}/redirect-ok`, target: 'label' } });
    expect(redirected.outputs.data!.metadata).toMatchObject({ rows: 2, source: { url: `${base}/data.csv` } });
  });

  it('refuses loopback, private, link-local and unique-local hosts without the allow-list, before connecting', async () => {
    const stage = createIngestHttpStage();
    const before = requests;
    const urls = [
      `${base}/data.csv`,
      `http://localhost:${port}/data.csv`,
      `http://[::1]:${port}/data.csv`,
      `http://[::ffff:127.0.0.1]:${port}/data.csv`,
      `http://[::ffff:7f00:1]:${port}/data.csv`,
      'http://10.0.0.1/data.csv',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/x.csv',
      'http://[fd00::1]/x.csv',
      'http://192.168.0.1/x.csv',
      // The WHATWG URL parser turns these spellings into 127.0.0.1.
      `http://2130706433:${port}/data.csv`,
      `http://0x7f.1:${port}/data.csv`,
    ];
    for (const url of urls) {
      await expect(env.run(stage, { params: { url, target: 'label' } }), url).rejects.toMatchObject({
        code: 'PW_ERR_BAD_PARAMS',
        retryable: false,
        message: expect.stringMatching(/refusing to fetch/),
      });
    }
    expect(requests).toBe(before);
  });

  it('re-checks every redirect hop', async () => {
    for (const path of ['/redirect-private', '/redirect-localhost']) {
      await expect(env.run(allowed(), { params: { url: `${base}${path}`, target: 'label' } }), path).rejects.toMatchObject({
        code: 'PW_ERR_BAD_PARAMS',
        message: expect.stringMatching(/refusing to fetch/),
      });
    }
    await expect(env.run(allowed(), { params: { url: `${base}/loop`, target: 'a' } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_PARAMS' });
  });

  it('enforces the size limit on declared and undeclared lengths', async () => {
    await expect(env.run(allowed(), { params: { url: `${base}/big-chunked`, target: 'y', maxBytes: 10_000 } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
      message: expect.stringMatching(/maxBytes/),
    });
    const started = Date.now();
    await expect(env.run(allowed(), { params: { url: `${base}/big-declared`, target: 'y', maxBytes: 10_000 } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    // Within the limit it is fine.
    const ok = await env.run(allowed(), { params: { url: `${base}/big-chunked`, target: 'y' } });
    expect(ok.metrics).toMatchObject({ rows: 100_000 });
  });

  it('gives up after timeoutMs with a retryable error', async () => {
    const started = Date.now();
    await expect(env.run(allowed(), { params: { url: `${base}/slow`, target: 'y', timeoutMs: 300 } })).rejects.toMatchObject({
      code: 'PW_ERR_SOURCE_UNAVAILABLE',
      retryable: true,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('checks the Content-Type and the status', async () => {
    await expect(env.run(allowed(), { params: { url: `${base}/page.html`, target: 'y' } })).rejects.toMatchObject({ code: 'PW_ERR_BAD_DATA' });
    await expect(env.run(allowed(), { params: { url: `${base}/data.json`, target: 'y', format: 'csv' } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_DATA',
    });
    await expect(env.run(allowed(), { params: { url: `${base}/missing.csv`, target: 'y' } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_PARAMS',
      retryable: false,
    });
    await expect(env.run(allowed(), { params: { url: `${base}/error`, target: 'y' } })).rejects.toMatchObject({ retryable: true });
  });

  it('has strict params: http(s) only, no credentials, limits capped by the worker', async () => {
    const stage = createIngestHttpStage({ maxBytesLimit: 1000 });
    expect(stage.params.safeParse({ url: 'file:///etc/passwd', target: 'y' }).success).toBe(false);
    expect(stage.params.safeParse({ url: 'ftp://example.com/a.csv', target: 'y' }).success).toBe(false);
    expect(stage.params.safeParse({ url: 'https://example.com/a.csv', target: 'y', maxBytes: 1001 }).success).toBe(false);
    expect(stage.params.safeParse({ url: 'https://example.com/a.csv', target: 'y', extra: 1 }).success).toBe(false);
    await expect(env.run(stage, { params: { url: 'https://user:pw@example.com/a.csv', target: 'y' } })).rejects.toMatchObject({
      code: 'PW_ERR_BAD_PARAMS',
    });
  });
});
