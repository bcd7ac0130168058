// The shared core of kubelet mode and get-credentials: load config, run the request under the
// overall deadline, log one summary line, and turn any failure into one line and an exit code.
import { loadConfig } from '../config/load.ts';
import type { FlagValues, ProviderConfig } from '../config/resolve.ts';
import { ProviderError, describeError, isProviderError } from '../errors.ts';
import type { CredentialProviderRequest } from '../kubelet/api.ts';
import { RequestError } from '../kubelet/request.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { provideCredentials, type ProvideResult } from '../provider/provide.ts';
import { newSummary, summaryFields, type InvocationSummary } from '../provider/summary.ts';
import { Deadline } from '../resilience/deadline.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface Invocation {
  startedAt: number;
  logger: Logger;
  summary: InvocationSummary;
}

export function startInvocation(): Invocation {
  return { startedAt: Date.now(), logger: createLogger('warn'), summary: newSummary() };
}

export async function loadInvocationConfig(inv: Invocation, flags: FlagValues): Promise<ProviderConfig> {
  const config = await loadConfig(flags);
  inv.logger.level = config.logLevel;
  return config;
}

export async function provideWithinDeadline(inv: Invocation, config: ProviderConfig, request: CredentialProviderRequest): Promise<ProvideResult> {
  const deadline = new Deadline(config.timeoutMs, inv.startedAt);
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProviderError('deadline', `no answer within the ${config.timeoutMs / 1000}s deadline (timeout); the cloud APIs are too slow or unreachable`)), deadline.remainingMs());
  });
  try {
    const result = await Promise.race([provideCredentials(request, { config, env: process.env, logger: inv.logger, deadline, summary: inv.summary }), overrun]);
    inv.logger.info('served', summaryFields(inv.summary, inv.startedAt));
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Prints one line for the failure and returns the exit code. */
export function reportFailure(inv: Invocation, error: unknown): number {
  const usage = error instanceof RequestError || (isProviderError(error) && (error.errorClass === 'input' || error.errorClass === 'config'));
  inv.summary.errorClass = error instanceof RequestError ? 'input' : isProviderError(error) ? error.errorClass : 'internal';
  inv.logger.info('failed', summaryFields(inv.summary, inv.startedAt));
  inv.logger.error(describeError(error));
  return usage ? EXIT_USAGE : EXIT_FAILURE;
}
