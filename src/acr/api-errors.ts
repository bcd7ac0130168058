// Turns what @alicloud/openapi-client throws (or a 200 with IsSuccess:false) into one
// ProviderError that says what failed and what to do, and whether a retry could help.
// Never passes the library's message through blindly: a JSON SyntaxError quotes the body,
// which may hold a token.
import { ProviderError } from '../errors.ts';
import { unreachableHint } from './endpoints.ts';

export interface CallContext {
  /** API action, e.g. GetAuthorizationToken. */
  action: string;
  /** RAM action the caller needs, e.g. cr:GetAuthorizationToken. */
  ramAction: string;
  region: string;
  endpointUrl: string;
  identity: string;
  /** What was asked about, for messages: e.g. `instance cri-xxx`. */
  subject?: string;
  /** What to check when the endpoint is unreachable (endpoints.ts unreachableHint). */
  unreachableHint?: string;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const NOT_FOUND_CODES = new Set(['INSTANCE_NOT_EXIST', 'InstanceNotExist', 'NOT_FOUND']);

interface OpenApiErrorShape {
  name?: string;
  code?: string;
  statusCode?: number;
  data?: { Message?: string; Code?: string };
}

export function classifyCallError(error: unknown, ctx: CallContext): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as OpenApiErrorShape;
  if (e.name === 'SyntaxError') {
    return new ProviderError('api', `${ctx.action} at ${ctx.endpointUrl} returned a malformed response`, { retryable: true });
  }
  if (e.statusCode === undefined) {
    const code = e.name === 'RequestTimeoutError' ? 'timeout' : e.code && NETWORK_CODES.has(e.code) ? e.code : e.code ?? e.name ?? 'error';
    const hint = ctx.unreachableHint ?? unreachableHint({ source: 'public' }, ctx.region);
    return new ProviderError('network', `cannot reach the CR API at ${ctx.endpointUrl} (${code}): ${hint}`, { retryable: true });
  }
  return classifyApiCode(e.code, e.data?.Message, e.statusCode, ctx);
}

export function classifyApiCode(code: string | undefined, message: string | undefined, status: number, ctx: CallContext): ProviderError {
  const what = ctx.subject ? ` for ${ctx.subject}` : '';
  const detail = `${code ?? `HTTP ${status}`}${message ? `: ${clip(message)}` : ''}`;
  if (status === 429 || /Throttling/i.test(code ?? '') || code === 'ServiceUnavailable') {
    return new ProviderError('throttled', `${ctx.action} in ${ctx.region} was throttled (${detail})`, { retryable: true });
  }
  if (status >= 500) return new ProviderError('api', `${ctx.action} in ${ctx.region} failed on the server side (${detail})`, { retryable: true });
  if (code && NOT_FOUND_CODES.has(code)) {
    return new ProviderError('not-found', `${ctx.action}${what} in ${ctx.region}: no such instance visible to ${ctx.identity} (${code})`);
  }
  if (status === 403 || /^(Forbidden|NoPermission|AccessDenied|NotAuthorized|Unauthorized)/i.test(code ?? '')) {
    return new ProviderError('permission', `${ctx.identity} is not allowed to call ${ctx.ramAction} in ${ctx.region}${what} (${code ?? status}): grant ${ctx.ramAction} to it in a RAM policy`);
  }
  if (code === 'SignatureDoesNotMatch' || code?.startsWith('InvalidAccessKeyId') || code?.startsWith('InvalidSecurityToken')) {
    return new ProviderError('api', `${ctx.action} in ${ctx.region}: the cloud rejected the credentials of ${ctx.identity} (${code}); check the AccessKey, the RAM role, and the node's clock`);
  }
  return new ProviderError('api', `${ctx.action}${what} in ${ctx.region} failed (${detail})`);
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
