// What @alicloud/openapi-client throws, read once for every Alibaba Cloud API we call (the CR API,
// acr/api-errors.ts; STS, identity/sts-errors.ts): a malformed body, an endpoint that cannot be
// reached, or the API's own answer, and the answers all of them give alike (throttling, server
// errors, rejected credentials). Library messages are never passed on: a JSON SyntaxError quotes
// the body, which may hold a token.
import { ProviderError } from '../errors.ts';

/** An error status, or a 200 with IsSuccess:false. */
export interface ApiAnswer {
  status: number;
  code: string | undefined;
  message: string | undefined;
}

export interface CallTarget {
  action: string;
  endpointUrl: string;
  /** "the CR API", "STS". */
  service: string;
  /** What to check when the endpoint cannot be reached. */
  unreachableHint: string;
}

interface OpenApiErrorShape {
  name?: string;
  code?: string;
  statusCode?: number;
  data?: { Message?: string };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

export function classifyThrown(error: unknown, call: CallTarget, classifyAnswer: (answer: ApiAnswer) => ProviderError): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as OpenApiErrorShape;
  if (e.name === 'SyntaxError') return new ProviderError('api', `${call.action} at ${call.endpointUrl} returned a malformed response`, { retryable: true });
  if (e.statusCode === undefined) {
    const code = e.name === 'RequestTimeoutError' ? 'timeout' : e.code && NETWORK_CODES.has(e.code) ? e.code : e.code ?? e.name ?? 'error';
    return new ProviderError('network', `cannot reach ${call.service} at ${call.endpointUrl} (${code}): ${call.unreachableHint}`, { retryable: true });
  }
  return classifyAnswer({ status: e.statusCode, code: e.code, message: e.data?.Message });
}

/**
 * Throttling, server errors and rejected credentials, as every API reports them; undefined for
 * any other answer. `what` names the call ("AssumeRole", "ListInstance in cn-hangzhou"), `detail`
 * the answer, `who` the identity that called.
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
