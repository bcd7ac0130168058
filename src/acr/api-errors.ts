// What the CR API's failures mean (net/openapi-errors.ts reads what the client throws): one
// ProviderError that says what failed and what to do, and whether a retry could help.
import { ProviderError } from '../errors.ts';
import { classifyThrown, commonAnswer } from '../net/openapi-errors.ts';
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

const NOT_FOUND_CODES = new Set(['INSTANCE_NOT_EXIST', 'InstanceNotExist', 'NOT_FOUND']);

export function classifyCallError(error: unknown, ctx: CallContext): ProviderError {
  const hint = ctx.unreachableHint ?? unreachableHint({ source: 'public' }, ctx.region);
  return classifyThrown(error, { action: ctx.action, endpointUrl: ctx.endpointUrl, service: 'the CR API', unreachableHint: hint }, (a) => classifyApiCode(a.code, a.message, a.status, ctx));
}

export function classifyApiCode(code: string | undefined, message: string | undefined, status: number, ctx: CallContext): ProviderError {
  const what = ctx.subject ? ` for ${ctx.subject}` : '';
  const detail = `${code ?? `HTTP ${status}`}${message ? `: ${clip(message)}` : ''}`;
  const common = commonAnswer({ status, code, message }, `${ctx.action} in ${ctx.region}`, detail, ctx.identity);
  if (common) return common;
  if (code && NOT_FOUND_CODES.has(code)) {
    return new ProviderError('not-found', `${ctx.action}${what} in ${ctx.region}: no such instance visible to ${ctx.identity} (${code})`);
  }
  if (status === 403 || /^(Forbidden|NoPermission|AccessDenied|NotAuthorized|Unauthorized)/i.test(code ?? '')) {
    return new ProviderError('permission', `${ctx.identity} is not allowed to call ${ctx.ramAction} in ${ctx.region}${what} (${code ?? status}): grant ${ctx.ramAction} to it in a RAM policy`);
  }
  return new ProviderError('api', `${ctx.action}${what} in ${ctx.region} failed (${detail})`);
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
