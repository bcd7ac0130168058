// What @alicloud/openapi-client throws, read once for every Alibaba Cloud API we call (the CR API
// in acr/api-errors.ts, STS in identity/sts-errors.ts), with the answers all of them give alike.
// Library messages are never passed on: a JSON SyntaxError quotes the body, which may hold a token.
import { ProviderError } from '../errors.ts';

/** An error status, or a 200 with IsSuccess:false. */
export type ApiAnswer = { status: number; code: string | undefined; message: string | undefined };

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** A malformed body or an unreachable endpoint here; the API's own answer goes to `classifyAnswer`. */
export function classifyThrown(
  error: unknown,
  call: { action: string; endpointUrl: string; service: string; unreachableHint: string },
  classifyAnswer: (answer: ApiAnswer) => ProviderError,
): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as { name?: string; code?: string; statusCode?: number; data?: { Message?: string } };
  if (e.name === 'SyntaxError') return new ProviderError('api', `${call.action} at ${call.endpointUrl} returned a malformed response`, { retryable: true });
  if (e.statusCode === undefined) {
    const code = e.name === 'RequestTimeoutError' ? 'timeout' : e.code && NETWORK_CODES.has(e.code) ? e.code : e.code ?? e.name ?? 'error';
    return new ProviderError('network', `cannot reach ${call.service} at ${call.endpointUrl} (${code}): ${call.unreachableHint}`, { retryable: true });
  }
  return classifyAnswer({ status: e.statusCode, code: e.code, message: e.data?.Message });
}

/**
 * Throttling, server errors and rejected credentials, as every API reports them (undefined for any
 * other answer): `what` names the call ("AssumeRole"), `detail` the answer, `who` the caller.
 */
export function commonAnswer(answer: ApiAnswer, what: string, detail: string, who: string): ProviderError | undefined {
  const code = answer.code ?? '';
  if (answer.status === 429 || /Throttling/i.test(code) || code === 'ServiceUnavailable') return new ProviderError('throttled', `${what} was throttled (${detail})`, { retryable: true });
  if (answer.status >= 500) return new ProviderError('api', `${what} failed on the server side (${detail})`, { retryable: true });
  if (code === 'SignatureDoesNotMatch' || code.startsWith('InvalidAccessKeyId') || code.startsWith('InvalidSecurityToken')) {
    return new ProviderError('api', `${what}: the cloud rejected the credentials of ${who} (${code}); check the AccessKey, the RAM role, and the node's clock`);
  }
  return undefined;
}
