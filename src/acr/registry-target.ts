// Which registry a host is and which configuration entry (if any) governs it. An entry may list
// a built-in ACR host only to attach a policy (identity, namespaces, cross-account role): the
// host then keeps its built-in resolution, unless the entry says otherwise (instanceId,
// credentialFile).
import type { RegistryEntry } from '../config/schema.ts';
import { ProviderError } from '../errors.ts';
import { classifyRegistryHost, type RegistryTarget } from './registry-host.ts';

export interface ResolvedRegistry {
  target: RegistryTarget;
  entry?: RegistryEntry;
}

export function resolveRegistry(host: string, registries: readonly RegistryEntry[]): ResolvedRegistry {
  const configured = classifyRegistryHost(host, registries);
  if (configured.kind !== 'custom') return { target: configured };
  const entry = registries[configured.entryIndex];
  if (!entry) return { target: configured };
  const builtin = classifyRegistryHost(host);
  if (builtin.kind === 'unrecognized') return { target: configured, entry };
  if (!entry.instanceId && !entry.credentialFile) return { target: builtin, entry };
  return { target: { ...configured, region: builtin.region }, entry };
}

/** Why a recognised registry gets no token from us: the one message for kubelet mode and doctor. */
export function unsupportedRegistryError(target: Extract<RegistryTarget, { kind: 'personal-dedicated' }>): ProviderError {
  return new ProviderError('unsupported', `${target.host} is a Personal Edition instance created after 2024-09-09 (${target.instanceId}); Alibaba Cloud documents no temporary-token API for these, so this provider cannot mint tokens for it: give it a registries entry with credentialFile (a root-only JSON file with the instance's username and password), or use an imagePullSecret`);
}
