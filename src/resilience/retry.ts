// Bounded retries with exponential backoff and full jitter, all inside one Deadline. Neither
// @alicloud/credentials nor @alicloud/openapi-client retries on its own.
import { ProviderError, isProviderError } from '../errors.ts';
import { systemClock } from './clock.ts';
import type { Deadline } from './deadline.ts';

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 4000 };

/** Below this much time left, another attempt would only be cut off by the deadline. */
const MIN_USEFUL_ATTEMPT_MS = 250;

export interface RetryOptions {
  deadline: Deadline;
  policy?: RetryPolicy;
  /** Default: ProviderError.retryable. */
  isRetryable?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  random?: () => number;
}

export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const policy = options.policy ?? options.deadline.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const isRetryable = options.isRetryable ?? ((e: unknown) => isProviderError(e) && e.retryable);
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!isRetryable(error) || attempt >= policy.maxAttempts) throw error;
      const delayMs = backoffDelayMs(attempt, policy, random);
      if (options.deadline.remainingMs() < delayMs + MIN_USEFUL_ATTEMPT_MS) throw outOfTime(error, attempt);
      options.onRetry?.(error, attempt, delayMs);
      await options.deadline.clock.sleep(delayMs);
    }
  }
}

/** Full jitter: uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

function outOfTime(error: unknown, attempts: number): unknown {
  if (!isProviderError(error)) return error;
  const plural = attempts === 1 ? 'attempt' : 'attempts';
  return new ProviderError(error.errorClass, `${error.message} (gave up after ${attempts} ${plural}: deadline reached)`, {
    cause: error,
  });
}

/** A plain wall-clock sleep (tests and fixtures); timing code sleeps on its Clock. */
export function sleep(ms: number): Promise<void> {
  return systemClock.sleep(ms);
}
