// Cache keys for registry tokens: one per (identity, registry instance), computable from the
// host and configuration alone so that the hit path needs no network call.
import type { RegistryEntry } from '../config/schema.ts';
import type { RegistryTarget } from '../acr/registry-host.ts';

export function tokenCacheKey(identityId: string, target: RegistryTarget, registries: readonly RegistryEntry[]): string | undefined {
  switch (target.kind) {
    case 'personal':
      return `token:${identityId}:personal:${target.region}`;
    case 'enterprise':
      return `token:${identityId}:ee:${target.region}:${target.instanceName}`;
    case 'custom': {
      const entry = registries[target.entryIndex];
      if (!entry) return undefined;
      const instance = entry.instanceId ?? `domain-${target.host.toLowerCase()}`;
      return `token:${identityId}:custom:${entry.regionId ?? target.region ?? 'node-region'}:${instance}`;
    }
    default:
      return undefined;
  }
}
