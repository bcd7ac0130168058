// The shared core of kubelet mode and get-credentials: load config, run the request under the
// overall deadline, log one summary line, count the invocation, and turn any failure into one
// line and an exit code.
import { CacheDirectory } from '../cache/cache-dir.ts';
import { loadConfig } from '../config/load.ts';
import type { FlagValues, ProviderConfig } from '../config/resolve.ts';
import { ProviderError, describeError, exitCodeFor, isProviderError } from '../errors.ts';
import type { CredentialProviderRequest } from '../kubelet/api.ts';
import { LogFile } from '../log/log-file.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { appendToJournal, journalLine } from '../metrics/journal.ts';
import { provideCredentials, type ProvideResult } from '../provider/provide.ts';
import { newSummary, summaryFields, type InvocationSummary } from '../provider/summary.ts';
import { Deadline } from '../resilience/deadline.ts';

/** Beyond this journal size, a cache miss (already off the fast path) folds it into totals. */
const COMPACT_JOURNAL_AT_BYTES = 256 * 1024;
/** Any invocation compacts past this size (a node that only ever hits). */
const FORCE_COMPACT_AT_BYTES = 4 * 1024 * 1024;

export interface Invocation {
  startedAt: number;
  logger: Logger;
  summary: InvocationSummary;
  /** Set once the configuration is loaded. */
  config?: ProviderConfig;
  /** The cache directory (tokens and counters), opened and checked at most once. */
  cacheDir?: CacheDirectory;
}

export function startInvocation(): Invocation {
  return { startedAt: Date.now(), logger: createLogger('warn'), summary: newSummary() };
}

export async function loadInvocationConfig(inv: Invocation, flags: FlagValues): Promise<ProviderConfig> {
  const config = await loadConfig(flags);
  inv.logger.level = config.logLevel;
  inv.logger.format = config.logFormat;
  if (config.logFile) inv.logger.sink = new LogFile(config.logFile.path, config.logFile);
  inv.config = config;
  inv.cacheDir = new CacheDirectory(config.cacheDir);
  return config;
}

/** The invocation's one deadline: `timeout` from the moment it started (reading stdin included). */
export function invocationDeadline(inv: Invocation, config: ProviderConfig): Deadline {
  return new Deadline(config.timeoutMs, inv.startedAt);
}

export async function provideWithinDeadline(inv: Invocation, config: ProviderConfig, request: CredentialProviderRequest): Promise<ProvideResult> {
  const deadline = invocationDeadline(inv, config);
  const cacheDir = (inv.cacheDir ??= new CacheDirectory(config.cacheDir));
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProviderError('deadline', `no answer within the ${config.timeoutMs / 1000}s deadline (timeout); the cloud APIs are too slow or unreachable`)), deadline.remainingMs());
  });
  try {
    const result = await Promise.race([provideCredentials(request, { config, cacheDir, env: process.env, logger: inv.logger, deadline, summary: inv.summary }), overrun]);
    inv.logger.info('served', summaryFields(inv.summary, inv.startedAt));
    await countInvocation(inv, true);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Prints one line for the failure and returns the exit code. */
export async function reportFailure(inv: Invocation, error: unknown): Promise<number> {
  inv.summary.errorClass = isProviderError(error) ? error.errorClass : 'internal';
  inv.logger.info('failed', summaryFields(inv.summary, inv.startedAt));
  inv.logger.error(describeError(error));
  await countInvocation(inv, false);
  return exitCodeFor(error);
}

/**
 * One journal line in the cache directory (an O_APPEND write, see src/metrics/journal.ts), only in
 * a directory that passed the checks (never in one the provider refused). Only a miss, which has
 * already paid for the slow path, folds a grown journal into totals.
 */
async function countInvocation(inv: Invocation, ok: boolean): Promise<void> {
  const check = inv.cacheDir?.open(false);
  if (!check?.usable) return;
  const size = appendToJournal(check.dir, journalLine(inv.summary, ok));
  if (size === undefined) return;
  const slowPath = inv.summary.cache !== 'hit' && inv.summary.cache !== 'not-acr';
  if (size > FORCE_COMPACT_AT_BYTES || (slowPath && size > COMPACT_JOURNAL_AT_BYTES)) {
    try {
      const { compactCounters } = await import('../lazy-compaction.ts');
      compactCounters(check.dir);
    } catch {
      // counters are best effort
    }
  }
}
