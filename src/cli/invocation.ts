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
import { systemClock, type Clock } from '../resilience/clock.ts';
import { Deadline } from '../resilience/deadline.ts';

/** Beyond this journal size, a cache miss (already off the fast path) folds it into totals. */
const COMPACT_JOURNAL_AT_BYTES = 256 * 1024;
/** Any invocation compacts past this size (a node that only ever hits). */
const FORCE_COMPACT_AT_BYTES = 4 * 1024 * 1024;

export interface Invocation {
  clock: Clock;
  env: NodeJS.ProcessEnv;
  startedAt: number;
  logger: Logger;
  summary: InvocationSummary;
  /** Set once the configuration is loaded. */
  config?: ProviderConfig;
  /** The cache directory (tokens and counters), opened and checked at most once. */
  cacheDir?: CacheDirectory;
}

/** What an invocation may be given instead of the process's own: tests run kubelet mode in process. */
export interface InvocationContext {
  /** Where log lines go (default: stderr). */
  stderr?: (line: string) => void;
  /** The environment the identity is chosen from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Default: the wall clock. */
  clock?: Clock;
}

export function startInvocation(context: InvocationContext = {}): Invocation {
  const clock = context.clock ?? systemClock;
  return { clock, env: context.env ?? process.env, startedAt: clock.now(), logger: createLogger('warn', context.stderr), summary: newSummary() };
}

export async function loadInvocationConfig(inv: Invocation, flags: FlagValues): Promise<ProviderConfig> {
  const config = await loadConfig(flags, inv.env);
  inv.logger.level = config.logLevel;
  inv.logger.format = config.logFormat;
  if (config.logFile) inv.logger.sink = new LogFile(config.logFile.path, config.logFile);
  inv.config = config;
  inv.cacheDir = new CacheDirectory(config.cacheDir);
  return config;
}

/** The invocation's one deadline: `timeout` from the moment it started (reading stdin included). */
export function invocationDeadline(inv: Invocation, config: ProviderConfig): Deadline {
  return new Deadline(config.timeoutMs, { startedAt: inv.startedAt, clock: inv.clock });
}

export async function provideWithinDeadline(inv: Invocation, config: ProviderConfig, request: CredentialProviderRequest): Promise<ProvideResult> {
  const deadline = invocationDeadline(inv, config);
  const cacheDir = (inv.cacheDir ??= new CacheDirectory(config.cacheDir));
  const done = new AbortController();
  const overrun = inv.clock.sleep(deadline.remainingMs(), done.signal).then((): never => {
    throw new ProviderError('deadline', `no answer within the ${config.timeoutMs / 1000}s deadline (timeout); the cloud APIs are too slow or unreachable`);
  });
  // Once the answer has won the race, the aborted sleep's rejection goes nowhere.
  overrun.catch(() => undefined);
  try {
    const result = await Promise.race([provideCredentials(request, { config, cacheDir, env: inv.env, logger: inv.logger, deadline, summary: inv.summary }), overrun]);
    inv.logger.info('served', summaryFields(inv.summary, inv.startedAt, inv.clock.now()));
    await countInvocation(inv, true);
    return result;
  } finally {
    done.abort();
  }
}

/** Prints one line for the failure and returns the exit code. */
export async function reportFailure(inv: Invocation, error: unknown): Promise<number> {
  inv.summary.errorClass = isProviderError(error) ? error.errorClass : 'internal';
  inv.logger.info('failed', summaryFields(inv.summary, inv.startedAt, inv.clock.now()));
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
