// Small HTTP plumbing shared by the emulators: a 127.0.0.1 server that closes completely
// (sockets and pending delayed answers included), body reading and reply helpers.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { FaultSpec } from './faults.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => Promise<void>;

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:0. close() aborts delayed handlers, destroys sockets, waits for 'close'. */
export async function startHttpServer(handler: Handler): Promise<RunningServer> {
  const abort = new AbortController();
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handler(req, res, abort.signal).catch((err: unknown) => {
      if (abort.signal.aborted) return;
      // An emulator bug should be loud in tests, but must not crash the process.
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`emulator error: ${err instanceof Error ? err.message : String(err)}`);
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        abort.abort();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Resolves after ms, or rejects early when the server is closing. Never keeps the loop alive past close(). */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('server closed'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('server closed'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The transport side of an injected fault: its delay, then a reset connection or an oversized
 *  body if asked for. Returns true when the fault has dealt with the request and its connection
 *  (nothing more may be sent; the servers record it as a connection-level fault). */
export async function delayOrReset(fault: Pick<FaultSpec, 'delayMs' | 'resetConnection' | 'oversizedBody'>, req: IncomingMessage, signal: AbortSignal): Promise<boolean> {
  if (fault.delayMs) await delay(fault.delayMs, signal);
  if (fault.oversizedBody) {
    const sent = await sendOversizedJson(req.socket, fault.oversizedBody.bytes);
    fault.oversizedBody.bytesSent?.(sent);
    return true;
  }
  if (!fault.resetConnection) return false;
  req.socket.destroy();
  return true;
}

/**
 * A 200 whose JSON body ({"Padding":"xxxx…"}) is `bytes` long, written straight on the socket with
 * backpressure until done or until the client hangs up; then the connection is closed. Resolves with
 * the bytes the client's socket accepted.
 */
export function sendOversizedJson(socket: Socket, bytes: number): Promise<number> {
  const head = '{"Padding":"';
  const tail = '"}';
  const chunk = Buffer.alloc(64 * 1024, 'x');
  return new Promise((resolve) => {
    let left = Math.max(0, bytes - head.length - tail.length);
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve(socket.bytesWritten);
    };
    socket.on('close', done);
    socket.on('error', done);
    const pump = (): void => {
      while (left > 0 && !socket.destroyed) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!socket.write(chunk.subarray(0, n))) return void socket.once('drain', pump);
      }
      if (!socket.destroyed) socket.end(tail, done);
    };
    socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=utf-8\r\ncontent-length: ${bytes}\r\nconnection: close\r\n\r\n${head}`);
    pump();
  });
}

export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Groups rawHeaders by lower-cased name so repeated headers keep every value (signature needs them). */
export function rawHeaderMap(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    (out[name] ??= []).push(req.rawHeaders[i + 1] ?? '');
  }
  return out;
}

/** What the API emulators need of a request: method, path, query, raw headers and body. */
export interface ParsedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string[]>;
  header(name: string): string | undefined;
  body: Buffer;
}

export async function parseRequest(req: IncomingMessage): Promise<ParsedRequest> {
  const body = await readBody(req);
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const headers = rawHeaderMap(req);
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: q < 0 ? rawUrl : rawUrl.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1)),
    headers,
    header: (name) => headers[name]?.[0],
    body,
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A 200 whose JSON body is cut in half: what a proxy hiccup or truncated read looks like. */
export function sendTruncatedJson(res: ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
  const full = JSON.stringify(body);
  const text = full.slice(0, Math.max(1, Math.floor(full.length / 2)));
  res.writeHead(200, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
