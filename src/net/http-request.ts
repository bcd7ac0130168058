// A small HTTP client on node:http for the metadata service: explicit per-attempt timeout
// covering connect and response, a body size cap of its own (64 KiB), and errors that name the
// failure.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ResponseTooLargeError } from './response-cap.ts';

export interface HttpResponse {
  status: number;
  body: string;
}

export class HttpTransportError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'HttpTransportError';
    this.code = code;
  }
}

const MAX_BODY_BYTES = 64 * 1024;

export function sendHttpRequest(
  method: 'GET' | 'PUT',
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method, headers, agent: false });
    const timer = setTimeout(() => req.destroy(new HttpTransportError('ETIMEDOUT', `no answer within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      if (error instanceof HttpTransportError) reject(error);
      else if (error instanceof ResponseTooLargeError) reject(new HttpTransportError('EMSGSIZE', error.reason));
      else reject(new HttpTransportError(error.code ?? 'EIO', error.message));
    };
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) req.destroy(new HttpTransportError('EMSGSIZE', 'response body too large'));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      // The request's error handler reports the rest (an aborted response's own error comes later).
      res.on('error', (error) => {
        if (error instanceof ResponseTooLargeError) fail(error);
      });
    });
    req.on('error', fail);
    req.end();
  });
}
