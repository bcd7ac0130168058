// The process-wide cap on HTTP response bodies, through the same library path the CR and STS
// calls take (httpx: request, then read the whole body).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import httpx from 'httpx';
import { capHttpResponses, ResponseTooLargeError } from '../../../src/net/response-cap.ts';

const CAP = 64 * 1024;
let server: Server;
let base: string;
const sent: number[] = [];

before(async () => {
  capHttpResponses(CAP);
  server = createServer((req, res) => {
    if (req.url === '/small') return void res.end('{"ok":true}');
    if (req.url === '/gzip') {
      const body = gzipSync('{"ok":true}');
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': body.length });
      return void res.end(body);
    }
    // /big: chunked, no length, written until the client hangs up.
    const chunk = Buffer.alloc(16 * 1024, 'x');
    let total = 0;
    const pump = (): void => {
      while (total < 50 * 1024 * 1024 && !res.destroyed) {
        total += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => sent.push(total));
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

async function fetchBody(path: string): Promise<Buffer> {
  const response = await httpx.request(`${base}${path}`, { readTimeout: 10_000, connectTimeout: 10_000 });
  return (await httpx.read(response, '')) as Buffer;
}

describe('capHttpResponses', () => {
  it('a small body passes untouched', async () => {
    assert.equal((await fetchBody('/small')).toString(), '{"ok":true}');
  });

  it('a 50 MB body fails with ResponseTooLargeError once past the cap, and the server sees the hang-up', async () => {
    await assert.rejects(fetchBody('/big'), (error) => error instanceof ResponseTooLargeError && /larger than/.test(error.reason));
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(sent.length === 1 && sent[0]! < 50 * 1024 * 1024, `the server wrote ${sent[0]} bytes`);
  });

  it('a compressed body is refused, whatever its size', async () => {
    await assert.rejects(fetchBody('/gzip'), (error) => error instanceof ResponseTooLargeError && /compressed \(gzip\)/.test(error.reason));
  });

  it('is installed once: a second call does not change the cap', async () => {
    capHttpResponses(1);
    assert.equal((await fetchBody('/small')).toString(), '{"ok":true}');
  });
});
