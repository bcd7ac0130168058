// One credential request, start to finish. This module is the kubelet's hot path: a cache hit
// is answered from here with a stat and one small file read (answer.ts). Everything the miss path
// needs (cloud SDKs, metadata client) is behind the dynamic import of ../lazy-refresh.ts.
import { resolveRegistry, tokenTarget } from '../acr/registry-target.ts';
import type { CacheDirectory } from '../cache/cache-dir.ts';
import { openCacheStore, type CacheStore } from '../cache/store.ts';
import type { ProviderConfig } from '../config/resolve.ts';
import { ProviderError, describeError } from '../errors.ts';
import { readCredentialFile } from '../identity/credential-file.ts';
import { planIdentity } from '../identity/request-identity.ts';
import type { CredentialProviderRequest } from '../kubelet/api.ts';
import { registryHostOf } from '../kubelet/request.ts';
import type { Logger } from '../log/logger.ts';
import type { Deadline } from '../resilience/deadline.ts';
import { answerFromCache, type TokenSlot } from './answer.ts';
import { tokenCacheKey } from './cache-keys.ts';
import type { InvocationSummary } from './summary.ts';
import { isCachedAnswer, type CachedAnswer } from './token-entry.ts';

/** How long the kubelet may remember "not an ACR host" for this image. */
export const NOT_ACR_CACHE_MS = 60_000;
/** Policy denials ("no credentials for this pod") are remembered as briefly. */
export const DENIED_CACHE_MS = 60_000;
/** Credential files are re-read on every call; the kubelet may keep an answer this long. */
export const CREDENTIAL_FILE_CACHE_MS = 60_000;

export interface ProvideContext {
  config: ProviderConfig;
  /** The invocation's cache directory, opened and checked at most once. */
  cacheDir: CacheDirectory;
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
  const result = await provide(request, ctx);
  rejectEchoedToken(request, result);
  return result;
}

async function provide(request: CredentialProviderRequest, ctx: ProvideContext): Promise<ProvideResult> {
  const { config, logger, summary } = ctx;
  const host = registryHostOf(request.image);
  const { target, entry } = resolveRegistry(host, config.registries);
  summary.host = host;
  summary.registryKind = target.kind;
  if (target.kind === 'unrecognized') {
    // Not positively identified as ACR: no token, and no cloud call at all.
    summary.cache = 'not-acr';
    return { cacheKeyType: 'Image', cacheDurationMs: NOT_ACR_CACHE_MS };
  }
  const plan = planIdentity(request, entry, config, ctx.env);
  if (plan.kind === 'deny') {
    // A policy answer, not a failure: "nothing from this provider", as for a foreign host, so
    // imagePullSecrets still apply and the kubelet does not re-run us on every pull.
    logger.info(`no credentials for ${host}: ${plan.reason}`);
    summary.cache = 'not-acr';
    return { cacheKeyType: 'Image', cacheDurationMs: DENIED_CACHE_MS };
  }
  if (plan.kind === 'credential-file') {
    const file = readCredentialFile(plan.path);
    return { cacheKeyType: 'Registry', cacheDurationMs: CREDENTIAL_FILE_CACHE_MS, auth: { [host]: file } };
  }
  const cacheKey = tokenCacheKey(plan.id, tokenTarget(target), config.registries);

  const cache = openReadableCache(ctx.cacheDir, logger, ctx.deadline);
  const slot: TokenSlot = { read: () => readCachedToken(cache, cacheKey, logger), lock: () => cache?.refreshLock(cacheKey) };
  const answer = await answerFromCache(slot, ctx.deadline, async (previous, outcome) => {
    const { refreshToken } = await import('../lazy-refresh.ts');
    return refreshToken({ target, cacheKey, plan, config, cacheDir: ctx.cacheDir, deadline: ctx.deadline, logger, summary, previous, outcome });
  }, (message) => logger.warn(message));
  summary.cache = answer.outcome;
  if ('noCredentials' in answer.entry) {
    if (answer.outcome !== 'hit' && answer.outcome !== 'shared') logger.info(answer.entry.reason);
  } else {
    // What the pre-warmer keeps warm (src/prewarm): registries this node served lately.
    cache?.markServed(cacheKey);
  }
  return credentialsFor(host, answer.entry, answer.cacheDurationMs);
}

/**
 * Token-echo guard: the ServiceAccount token must never leave as a registry password (with
 * cacheType ServiceAccount the kubelet would share it between pods; newer kubelets reject the
 * whole response). Whatever produced it (a credential file, a misbehaving API), refuse.
 */
export function rejectEchoedToken(request: CredentialProviderRequest, result: ProvideResult): void {
  const token = request.serviceAccountToken;
  if (!token || !result.auth) return;
  for (const auth of Object.values(result.auth)) {
    if (auth.password === token || auth.username === token) {
      throw new ProviderError('internal', 'refusing to return the service account token as a registry credential (token echo): check the credential source of this registry');
    }
  }
}

/** The cache, if its directory is trusted (created when missing); undefined otherwise. */
function openReadableCache(cacheDir: CacheDirectory, logger: Logger, deadline: Deadline): CacheStore | undefined {
  // A brand-new node: create it now, so that the first burst of pulls can coordinate.
  const check = cacheDir.open(true);
  // Unusable: the miss path, which always follows, says why.
  if (!check.usable) return undefined;
  return openCacheStore(check.dir, (reason) => logger.warn(reason), deadline.clock);
}

async function readCachedToken(cache: CacheStore | undefined, key: string, logger: Logger): Promise<CachedAnswer | undefined> {
  try {
    return await cache?.get(key, isCachedAnswer);
  } catch (error) {
    logger.warn(`cannot read the token cache (${describeError(error)})`);
    return undefined;
  }
}

function credentialsFor(host: string, entry: CachedAnswer, durationMs: number): ProvideResult {
  // "No credentials" for the whole registry: the kubelet pulls anonymously and does not ask again
  // for the same host until durationMs has passed.
  if ('noCredentials' in entry) return { cacheKeyType: 'Registry', cacheDurationMs: durationMs };
  // Keyed by the exact host from the image (port included) so the kubelet's matcher applies it.
  return { cacheKeyType: 'Registry', cacheDurationMs: durationMs, auth: { [host]: { username: entry.username, password: entry.password } } };
}
