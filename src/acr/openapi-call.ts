// One Alibaba Cloud OpenAPI call through @alicloud/openapi-client (callApi, or doRPCRequest for
// the anonymous RPC form), with the handling every caller needs: per-attempt timeouts inside the invocation's deadline, bounded
// retries of what a retry can fix, IsSuccess:false treated as an error, and the body validated
// inside the retry loop. Used for CR (cr-openapi.ts) and STS (identity/sts-client.ts).
import { RuntimeOptions } from '@alicloud/tea-util';
import { isProviderError, ProviderError } from '../errors.ts';
import { capHttpResponses, ResponseTooLargeError } from '../net/response-cap.ts';
import type { Deadline } from '../resilience/deadline.ts';
import { withRetry } from '../resilience/retry.ts';

/** One attempt may not take longer than this; retries and the deadline handle the rest. */
const ATTEMPT_TIMEOUT_MS = 10_000;

/** Sends one attempt with these timeouts: a client's callApi or doRPCRequest. */
export type OpenApiSend = (runtime: RuntimeOptions) => Promise<{ body?: unknown } | undefined>;

/** Every attempt (for the invocation summary and counters) and every retry (for the log). */
export interface CallHooks {
  onCall?: ((action: string, ms: number, outcome: string) => void) | undefined;
  onRetry?: ((message: string) => void) | undefined;
}

export interface OpenApiCallOptions extends CallHooks {
  action: string;
  deadline: Deadline;
  /** Fetched once before the retry loop (with its own retries); absent for anonymous calls. */
  credential?: { getCredential(): Promise<unknown> };
  classifyThrown(error: unknown): ProviderError;
  classifyFailure(code: string | undefined, message: string | undefined): ProviderError;
  malformed(): ProviderError;
}

export async function callOpenApi<T>(send: OpenApiSend, options: OpenApiCallOptions, read: (body: Record<string, any>) => T): Promise<T> {
  // Credentials first, with the metadata client's own retries; inside the API retry loop
  // they come from memory. Retrying them here too would multiply the attempts.
  await options.credential?.getCredential();
  // The SDK reads whole bodies into memory: never more than this process's response cap.
  capHttpResponses();
  const { action } = options;
  return withRetry(
    async () => {
      const timeout = options.deadline.attemptTimeoutMs(ATTEMPT_TIMEOUT_MS);
      // connectTimeout doubles as a socket idle timeout in httpx: keep it >= readTimeout.
      const runtime = new RuntimeOptions({ readTimeout: timeout, connectTimeout: timeout });
      const started = Date.now();
      let body: Record<string, any>;
      try {
        const response = await send(runtime);
        body = (response?.body ?? {}) as Record<string, any>;
      } catch (error) {
        const classified = error instanceof ResponseTooLargeError ? new ProviderError('api', `${action}: ${error.reason}; refusing to read it (check that the endpoint is Alibaba Cloud's)`) : options.classifyThrown(error);
        options.onCall?.(action, Date.now() - started, classified.errorClass);
        throw classified;
      }
      if (body.IsSuccess === false) {
        const classified = options.classifyFailure(stringOrUndefined(body.Code), stringOrUndefined(body.Message));
        options.onCall?.(action, Date.now() - started, classified.errorClass);
        throw classified;
      }
      let result: T;
      try {
        result = read(body);
      } catch (error) {
        options.onCall?.(action, Date.now() - started, 'malformed');
        throw isProviderError(error) ? error : options.malformed();
      }
      options.onCall?.(action, Date.now() - started, 'ok');
      return result;
    },
    {
      deadline: options.deadline,
      isRetryable: (error) => isProviderError(error) && error.retryable && error.errorClass !== 'metadata' && error.errorClass !== 'no-role',
      onRetry: (error) => options.onRetry?.(`${(error as Error).message}; retrying`),
    },
  );
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
