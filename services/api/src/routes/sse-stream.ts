import type { FastifyReply, FastifyRequest } from 'fastify';

/** A comment line every 15 s keeps proxies and load balancers from closing an idle stream. */
export const SSE_HEARTBEAT_MS = 15_000;

/**
 * A client that does not read its stream is dropped once this much is buffered for it; its
 * EventSource reconnects and receives the current state, which is all it needs.
 */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface SseStream {
  send(event: string, data: unknown): void;
  /** Ends the response (the client's EventSource will reconnect). Idempotent. */
  close(): void;
  readonly closed: boolean;
}

/**
 * Takes over the response and opens a `text/event-stream` on it. `onClose` runs once, when the
 * client goes away or the stream is closed from here.
 */
export function openSseStream(request: FastifyRequest, reply: FastifyReply, onClose: () => void): SseStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx buffers responses unless told not to.
    'x-accel-buffering': 'no',
  });
  // How long an EventSource waits before reconnecting.
  res.write('retry: 2000\n\n');
  let closed = false;
  const heartbeat = setInterval(() => write(': heartbeat\n\n'), SSE_HEARTBEAT_MS);
  heartbeat.unref();
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    onClose();
  };
  function write(chunk: string): void {
    if (closed) return;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      request.log.warn('SSE client is not reading; closing its stream');
      stream.close();
      return;
    }
    res.write(chunk);
  }
  // 'close' on the response: the client went away or the response ended (a request's 'close'
  // fires when its body was read, which for a GET is at once).
  res.on('close', finish);
  res.on('error', finish);
  const stream: SseStream = {
    send(event, data) {
      write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      if (!res.writableEnded) res.end();
      finish();
    },
    get closed() {
      return closed;
    },
  };
  return stream;
}
