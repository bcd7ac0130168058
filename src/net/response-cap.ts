// A cap on every HTTP response this process receives, wherever the request comes from: the CR and
// STS calls go through @alicloud/openapi-client, tea and httpx, which read a whole body into
// memory whatever its size (a 50 MB body cost ~300 MB) and offer no hook for a limit. Node
// announces every outgoing request on the `http.client.request.start` diagnostics channel; from
// there we count the bytes that arrive on the request's socket and, past the cap, destroy the
// response with ResponseTooLargeError, which is what the library's reader then rejects with.
// A compressed body is refused the same way, and never inflated: its size says nothing about
// what it inflates to, and the SDK never asks for compression.
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** No answer of the metadata service, CR or STS comes near this. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export class ResponseTooLargeError extends Error {
  readonly code = 'ERESPONSETOOLARGE';
  /** What was wrong with the response (libraries may append to `message`). */
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'ResponseTooLargeError';
    this.reason = reason;
  }
}

let installedCap: number | undefined;

/** Caps every later HTTP response of this process at `maxBytes` (idempotent). */
export function capHttpResponses(maxBytes = MAX_RESPONSE_BYTES): void {
  if (installedCap !== undefined) return;
  installedCap = maxBytes;
  subscribe('http.client.request.start', (message) => watch((message as { request: ClientRequest }).request, maxBytes));
}

function watch(request: ClientRequest, maxBytes: number): void {
  let response: IncomingMessage | undefined;
  // Once the response has started, its reader listens on it; before that, on the request.
  const abort = (error: ResponseTooLargeError): void => {
    if (response) failResponse(response, error);
    else request.destroy(error);
  };
  let counting = false;
  const countOn = (socket: Socket): void => {
    if (counting) return;
    counting = true;
    let received = 0;
    const count = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes) {
        socket.off('data', count);
        abort(new ResponseTooLargeError(`the response is larger than ${maxBytes / (1024 * 1024)} MiB`));
      }
    };
    // Another listener on a flowing socket: it sees the same chunks as the HTTP parser.
    socket.on('data', count);
    request.once('close', () => socket.off('data', count));
  };
  // The channel speaks once the request is sent, usually with its socket already assigned.
  if (request.socket) countOn(request.socket);
  else request.once('socket', countOn);
  request.once('response', (res: IncomingMessage) => {
    response = res;
    const encoding = res.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      // Never inflated: without the header the reader reads the raw bytes from `res` itself,
      // where the error below (and the size cap) reach it.
      delete res.headers['content-encoding'];
      abort(new ResponseTooLargeError(`the response is compressed (${encoding}), which was not asked for`));
    }
  });
}

/**
 * Destroys the response with `error` where its reader will see it. A reader that has not attached
 * its 'error' listener yet (it does so a few promise callbacks after the response event) would
 * otherwise find a dead stream and wait for its own timeout.
 */
function failResponse(response: IncomingMessage, error: ResponseTooLargeError): void {
  if (response.listenerCount('error') > 0) {
    response.destroy(error);
    return;
  }
  const onListener = (event: string | symbol): void => {
    if (event !== 'error') return;
    response.off('newListener', onListener);
    process.nextTick(() => response.destroy(error));
  };
  response.on('newListener', onListener);
}
