// The miss path, loaded only when the cache cannot answer: it brings in the cloud SDKs and
// everything else the hit path must not pay for. The refresh lock is already held (or given up
// on) by the hit path (answer.ts).
import type { RegistryTarget } from '../acr/registry-host.ts';
import type { CacheDirectory } from '../cache/cache-dir.ts';
import { openCacheStore, type CacheStore } from '../cache/store.ts';
import type { ProviderConfig } from '../config/resolve.ts';
import type { Logger } from '../log/logger.ts';
import type { Deadline } from '../resilience/deadline.ts';
import type { Answer } from './answer.ts';
import { CloudSession, type CloudPlan } from './cloud-session.ts';
import { fetchToken } from './fetch-token.ts';
import { refreshOrServeStale } from './refresh-answer.ts';
import type { InvocationSummary } from './summary.ts';
import type { TokenEntry } from './token-entry.ts';

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
  /** How the hit path got here: holding the refresh lock, or without it. */
  outcome: 'refreshed' | 'unlocked';
}

export async function refreshToken(request: RefreshRequest): Promise<Answer> {
  const { logger, deadline } = request;
  const cache = openWritableCache(request.cacheDir, logger, deadline);
  const session = new CloudSession({ ...request, cache });
  const target = { cache, key: request.cacheKey, host: request.target.host, clock: deadline.clock, warn: (message: string) => logger.warn(message) };
  return refreshOrServeStale(target, () => fetchToken(request.target, session), request.previous, request.outcome);
}

export function openWritableCache(cacheDir: CacheDirectory, logger: Logger, deadline: Deadline): CacheStore | undefined {
  const check = cacheDir.open(true);
  if (!check.usable) {
    logger.warn(`cache directory ${cacheDir.path} ${check.reason}; continuing without a cache`);
    return undefined;
  }
  return openCacheStore(check.dir, (reason) => logger.warn(reason), deadline.clock);
}
