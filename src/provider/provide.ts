// One credential request, start to finish. This module is the kubelet's hot path: a cache hit
// is answered from here with a stat and one small file read. Everything the miss path needs
// (cloud SDKs, metadata client, lock) is behind the dynamic import of ../lazy.ts.
import { classifyRegistryHost } from '../acr/registry-host.ts';
import { checkCacheDir } from '../cache/cache-dir.ts';
import { openCacheStore } from '../cache/store.ts';
import type { ProviderConfig } from '../config/resolve.ts';
import { ProviderError, describeError } from '../errors.ts';
import { identityCacheId, identitySourceFrom } from '../identity/identity-key.ts';
import type { CredentialProviderRequest } from '../kubelet/api.ts';
import { registryHostOf } from '../kubelet/request.ts';
import type { Logger } from '../log/logger.ts';
import type { Deadline } from '../resilience/deadline.ts';
import { tokenCacheKey } from './cache-keys.ts';
import type { InvocationSummary } from './summary.ts';
import { cacheDurationMs, isFresh, isTokenEntry, type TokenEntry } from './token-entry.ts';

/** How long the kubelet may remember "not an ACR host" for this image. */
export const NOT_ACR_CACHE_MS = 60_000;

export interface ProvideContext {
  config: ProviderConfig;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  deadline: Deadline;
  summary: InvocationSummary;
}

export interface ProvideResult {
  cacheKeyType: 'Image' | 'Registry';
  cacheDurationMs: number;
  auth?: Record<string, { username: string; password: string }>;
}

export async function provideCredentials(request: CredentialProviderRequest, ctx: ProvideContext): Promise<ProvideResult> {
  const { config, logger, summary } = ctx;
  const host = registryHostOf(request.image);
  const target = classifyRegistryHost(host, config.registries);
  summary.host = host;
  summary.registryKind = target.kind;
  if (target.kind === 'unrecognized') {
    // Not positively identified as ACR: no token, and no cloud call at all.
    summary.cache = 'not-acr';
    return { cacheKeyType: 'Image', cacheDurationMs: NOT_ACR_CACHE_MS };
  }
  if (target.kind === 'personal-dedicated') {
    throw new ProviderError('unsupported', `${host} is a Personal Edition instance created after 2024-09-09 (${target.instanceId}); Alibaba Cloud offers no temporary-token API for these, so this provider cannot serve it yet: use an imagePullSecret with the instance's login password for now`);
  }
  const source = identitySourceFrom(ctx.env, config.metadata.roleName);
  const cacheKey = tokenCacheKey(identityCacheId(source), target, config.registries);
  if (cacheKey === undefined) throw new ProviderError('internal', `no cache key for ${host}`);

  const cached = await readCachedToken(config.cacheDir, cacheKey, logger);
  const now = Date.now();
  if (cached && isFresh(cached, now)) {
    summary.cache = 'hit';
    return credentialsFor(host, cached, cacheDurationMs(cached, now));
  }
  const { refreshToken } = await import('../lazy.ts');
  const refreshed = await refreshToken({ target, cacheKey, source, config, deadline: ctx.deadline, logger, summary, previous: cached });
  summary.cache = refreshed.outcome;
  return credentialsFor(host, refreshed.entry, refreshed.cacheDurationMs);
}

function readCachedToken(dir: string, key: string, logger: Logger): Promise<TokenEntry | undefined> | TokenEntry | undefined {
  const check = checkCacheDir(dir);
  if (!check.usable) {
    if (check.reason !== 'does not exist yet') logger.warn(`not reading the token cache: ${dir} ${check.reason}`);
    return undefined;
  }
  try {
    return openCacheStore(dir, (reason) => logger.warn(reason)).get(key, isTokenEntry);
  } catch (error) {
    logger.warn(`cannot read the token cache in ${dir} (${describeError(error)})`);
    return undefined;
  }
}

function credentialsFor(host: string, entry: TokenEntry, durationMs: number): ProvideResult {
  // Keyed by the exact host from the image (port included) so the kubelet's matcher applies it.
  return { cacheKeyType: 'Registry', cacheDurationMs: durationMs, auth: { [host]: { username: entry.username, password: entry.password } } };
}
