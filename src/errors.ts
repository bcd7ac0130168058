// The one error type of the provider, the installer and the payload code. Each carries a class
// (for logs, counters and the exit code) and a one-line message that says what failed and what to
// do about it.

export type ErrorClass =
  | 'input' // bad stdin or arguments
  | 'config' // bad config file or flags
  | 'unsupported' // a recognised registry we cannot get tokens for
  | 'metadata' // ECS instance metadata service
  | 'no-role' // no RAM role attached to the instance
  | 'permission' // RAM denied an action
  | 'not-found' // registry instance does not exist or is invisible to us
  | 'network' // endpoint unreachable, reset, timeout of one attempt
  | 'throttled' // API flow control
  | 'api' // any other cloud API error
  | 'deadline' // the overall deadline ran out
  | 'install' // the installer could not change the node, or a payload is not what it must be
  | 'internal';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** Bad input, flags or configuration: the call must change, not the cloud or the node. */
export const EXIT_USAGE = 2;

export function exitCodeFor(error: unknown): number {
  return isProviderError(error) && (error.errorClass === 'input' || error.errorClass === 'config') ? EXIT_USAGE : EXIT_FAILURE;
}

export class ProviderError extends Error {
  readonly errorClass: ErrorClass;
  /** True when another attempt could succeed (network blips, 5xx, throttling). */
  readonly retryable: boolean;

  constructor(errorClass: ErrorClass, message: string, options?: { retryable?: boolean; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
    this.errorClass = errorClass;
    this.retryable = options?.retryable ?? false;
  }
}

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderError;
}

/** A short, single-line description of any thrown value, never a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error).split('\n')[0] ?? 'unknown error';
}
