// Cache keys for registry tokens: one per (identity, registry instance), computable from the
// host and configuration alone so that the hit path needs no network call.
import type { TokenTarget } from '../acr/registry-target.ts';
import { assertNever } from '../assert-never.ts';
import type { RegistryEntry } from '../config/schema.ts';
import { ProviderError } from '../errors.ts';

export function tokenCacheKey(identityId: string, target: TokenTarget, registries: readonly RegistryEntry[]): string {
  switch (target.kind) {
    case 'personal':
      return `token:${identityId}:personal:${target.region}`;
    case 'enterprise':
      return `token:${identityId}:ee:${target.region}:${target.instanceName}`;
    case 'custom': {
      const entry = registries[target.entryIndex];
      if (!entry) throw new ProviderError('internal', `no registries entry ${target.entryIndex} for ${target.host}`);
      const instance = entry.instanceId ?? `domain-${target.host.toLowerCase()}`;
      return `token:${identityId}:custom:${entry.regionId ?? target.region ?? 'node-region'}:${instance}`;
    }
    default:
      return assertNever(target, 'registry kind');
  }
}
