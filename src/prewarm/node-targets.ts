// Which registries a node keeps warm, and under which cache key: every registry of the config,
// and every registry the kubelet was answered for within `prewarm.servedWithin` (the cache's
// served markers), each under the node's own identity exactly as the kubelet path would key it.
// Not pre-warmed: registries whose tokens belong to a pod (identity: serviceAccount: there is no
// ServiceAccount token without a pod), credential files (no cloud call), hosts that are not ACR,
// and Personal Edition instances we cannot mint tokens for.
import { isTokenTarget, resolveRegistry, type TokenTarget } from '../acr/registry-target.ts';
import type { CacheStore } from '../cache/store.ts';
import type { ProviderConfig } from '../config/resolve.ts';
import type { RegistryEntry } from '../config/schema.ts';
import { planIdentity } from '../identity/request-identity.ts';
import { tokenCacheKey } from '../provider/cache-keys.ts';
import type { CloudPlan } from '../provider/cloud-session.ts';
import { isTokenEntry } from '../provider/token-entry.ts';

export interface WarmSpec {
  key: string;
  host: string;
  target: TokenTarget;
  plan: Extract<CloudPlan, { kind: 'node' }>;
  /** Listed in the config (kept warm whether or not it was served). */
  configured: boolean;
}

const TOKEN_PREFIX = 'token:';

export async function nodeWarmSpecs(config: ProviderConfig, cache: CacheStore, env: NodeJS.ProcessEnv, now: number): Promise<WarmSpec[]> {
  const specs = new Map<string, WarmSpec>();
  for (const entry of config.registries) {
    for (const host of entry.domains) {
      const spec = specFor(host, config, env, true);
      if (spec) specs.set(spec.key, spec);
    }
  }
  for (const key of cache.keys(TOKEN_PREFIX)) {
    if (specs.has(key)) continue;
    const served = cache.lastServed(key);
    if (served === undefined || now - served > config.prewarm.servedWithinMs) continue;
    const entry = await cache.get(key, isTokenEntry);
    if (!entry?.host) continue;
    const spec = specFor(entry.host, config, env, false);
    // Cached under another identity or an older config: not ours to refresh.
    if (spec?.key === key) specs.set(key, spec);
  }
  return [...specs.values()];
}

/** The node-identity cache key of `host`, as the kubelet path computes it; undefined if not pre-warmable. */
export function specFor(host: string, config: ProviderConfig, env: NodeJS.ProcessEnv, configured: boolean): WarmSpec | undefined {
  const { target, entry } = resolveRegistry(host, config.registries);
  if (!isTokenTarget(target)) return undefined;
  if (entry?.identity === 'serviceAccount' || entry?.credentialFile) return undefined;
  let plan;
  try {
    // namespaces/serviceAccounts decide who may be answered, not which token: the token is the node's.
    plan = planIdentity({ apiVersion: 'credentialprovider.kubelet.k8s.io/v1', image: host }, entry && withoutScope(entry), config, env);
  } catch {
    return undefined; // an identity the node cannot use (the kubelet path reports it)
  }
  if (plan.kind !== 'node') return undefined;
  const key = tokenCacheKey(plan.id, target, config.registries);
  return { key, host, target, plan, configured };
}

function withoutScope(entry: RegistryEntry): RegistryEntry {
  const { namespaces: _namespaces, serviceAccounts: _serviceAccounts, ...rest } = entry;
  return rest;
}
