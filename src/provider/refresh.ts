// The miss path, loaded only when the cache cannot answer: it brings in the cloud SDKs, the
// lock and everything else the hit path must not pay for.
import type { RegistryTarget } from '../acr/registry-host.ts';
import type { CacheDirectory } from '../cache/cache-dir.ts';
import { MAX_REFRESH_WAIT_MS } from '../cache/refresh-watch.ts';
import { singleFlight, type FlightOutcome } from '../cache/single-flight.ts';
import { openCacheStore, type CacheStore } from '../cache/store.ts';
import type { ProviderConfig } from '../config/resolve.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import type { Deadline } from '../resilience/deadline.ts';
import { CloudSession, type CloudPlan } from './cloud-session.ts';
import { fetchToken } from './fetch-token.ts';
import type { InvocationSummary } from './summary.ts';
import { canServeStale, cacheDurationMs, isCachedAnswer, isFresh, isTokenEntry, newNoCredentialsEntry, staleCacheDurationMs, type CachedAnswer, type TokenEntry } from './token-entry.ts';


export interface RefreshRequest {
  target: RegistryTarget;
  cacheKey: string;
  plan: CloudPlan;
  config: ProviderConfig;
  /** The invocation's cache directory (already opened by the hit path). */
  cacheDir: CacheDirectory;
  deadline: Deadline;
  logger: Logger;
  summary: InvocationSummary;
  /** What the hit path found: past its refresh point, but perhaps still usable if refresh fails. */
  previous: TokenEntry | undefined;
}

export interface RefreshResult {
  /** A token, or "no credentials" for a host of another account (fetch-token.ts). */
  entry: CachedAnswer;
  cacheDurationMs: number;
  outcome: FlightOutcome | 'stale';
}

export async function refreshToken(request: RefreshRequest): Promise<RefreshResult> {
  const { config, logger, cacheKey } = request;
  const cache = openWritableCache(request.cacheDir, logger);
  const session = new CloudSession({ ...request, cache });
  try {
    const flight = await singleFlight<CachedAnswer>({
      lockPath: cache?.lockPathFor(cacheKey),
      readFresh: async () => {
        const entry = await cache?.get(cacheKey, isCachedAnswer);
        return entry && isFresh(entry, Date.now()) ? entry : undefined;
      },
      refresh: async () => {
        const fetched = await fetchToken(request.target, session);
        // The host is kept for the docker credential helper's `list`.
        const entry: CachedAnswer = { ...(fetched.kind === 'token' ? fetched.entry : newNoCredentialsEntry(fetched.reason, Date.now())), host: request.target.host };
        // Only what a later call would accept is cached (lifetimes are clamped in token-entry.ts).
        if (isCachedAnswer(entry)) {
          await cache?.set(cacheKey, entry, entry.expiresAt - Date.now()).catch((error: unknown) => {
            logger.warn(`cannot write the token cache in ${config.cacheDir} (${describeError(error)}); continuing without caching`);
          });
        }
        return entry;
      },
      deadline: request.deadline,
      maxWaitMs: MAX_REFRESH_WAIT_MS,
      onWarning: (message) => logger.warn(message),
    });
    return { entry: flight.value, cacheDurationMs: cacheDurationMs(flight.value, Date.now()), outcome: flight.outcome };
  } catch (error) {
    const previous = (await cache?.get(cacheKey, isTokenEntry)) ?? request.previous;
    if (previous && canServeStale(previous, Date.now())) {
      const left = Math.round((previous.expiresAt - Date.now()) / 1000);
      logger.warn(`token refresh failed (${describeError(error)}); serving the cached token, valid for another ${left}s`);
      return { entry: previous, cacheDurationMs: staleCacheDurationMs(previous, Date.now()), outcome: 'stale' };
    }
    throw error;
  }
}

function openWritableCache(cacheDir: CacheDirectory, logger: Logger): CacheStore | undefined {
  const check = cacheDir.open(true);
  if (!check.usable) {
    logger.warn(`cache directory ${cacheDir.path} ${check.reason}; continuing without a cache`);
    return undefined;
  }
  return openCacheStore(check.dir, (reason) => logger.warn(reason));
}
