// Which registry a host is and which configuration entry (if any) governs it. An entry may list
// a built-in ACR host only to attach a policy (identity, namespaces, cross-account role): the
// host then keeps its built-in resolution, unless the entry says otherwise (instanceId,
// credentialFile).
import { assertNever } from '../assert-never.ts';
import type { RegistryEntry } from '../config/schema.ts';
import { ProviderError } from '../errors.ts';
import { classifyRegistryHost, type RegistryTarget } from './registry-host.ts';

/** The kinds this provider mints registry tokens for (fetch-token.ts); the rest get none. */
const TOKEN_KINDS = ['personal', 'enterprise', 'custom'] as const satisfies ReadonlyArray<RegistryTarget['kind']>;
export type TokenTarget = Extract<RegistryTarget, { kind: (typeof TOKEN_KINDS)[number] }>;

export function mintsTokens(kind: string): boolean {
  return (TOKEN_KINDS as readonly string[]).includes(kind);
}

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

/** The target, if it is one we mint tokens for; else the error that says why not (kubelet mode and doctor alike). */
export function tokenTarget(target: RegistryTarget): TokenTarget {
  if (isTokenTarget(target)) return target;
  switch (target.kind) {
    case 'personal-dedicated':
      throw new ProviderError('unsupported', `${target.host} is a Personal Edition instance created after 2024-09-09 (${target.instanceId}); Alibaba Cloud documents no temporary-token API for these, so this provider cannot mint tokens for it: give it a registries entry with credentialFile (a root-only JSON file with the instance's username and password), or use an imagePullSecret`);
    case 'unrecognized':
      throw new ProviderError('internal', `${target.host} is not an ACR host: there is no token to fetch for it`);
    default:
      return assertNever(target, 'registry kind');
  }
}

export function isTokenTarget(target: RegistryTarget): target is TokenTarget {
  return mintsTokens(target.kind);
}
