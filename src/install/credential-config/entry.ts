// Our provider entry of the kubelet's CredentialProviderConfig.
import { builtinMatchImages } from '../../acr/host-forms.ts';
import type { ConfigFile } from '../../config/schema.ts';
import { ProviderError } from '../../errors.ts';
import { apiChoice, tokenAttributesSupport, type KubeletVersion } from '../kubelet/version.ts';
import { PROVIDER_NAME } from '../paths.ts';

// A fallback only: the provider always sends its own cacheDuration.
export const DEFAULT_CACHE_DURATION = '10m';

export interface TokenAttributesInput {
  serviceAccountTokenAudience: string;
  requireServiceAccount: boolean;
  cacheType?: 'ServiceAccount' | 'Token'; // used from 1.34, where it is required
  requiredServiceAccountAnnotationKeys?: string[];
  optionalServiceAccountAnnotationKeys?: string[];
}

export interface ProviderEntry {
  name: string;
  matchImages: string[];
  defaultCacheDuration: string;
  apiVersion: string;
  args: string[];
  tokenAttributes?: Record<string, unknown>;
}

export interface EntryOptions {
  version: KubeletVersion;
  nodeProviderConfigPath: string;
  providerConfig: ConfigFile;
  tokenAttributes?: TokenAttributesInput;
}

export function customDomains(config: ConfigFile): string[] {
  return (config.registries ?? []).flatMap((r) => r.domains);
}

export function buildProviderEntry(options: EntryOptions): ProviderEntry {
  const { providerApiVersion } = apiChoice(options.version);
  const matchImages = [...new Set([...builtinMatchImages(), ...customDomains(options.providerConfig)])];
  const entry: ProviderEntry = {
    name: PROVIDER_NAME,
    matchImages,
    defaultCacheDuration: DEFAULT_CACHE_DURATION,
    apiVersion: providerApiVersion,
    args: ['--config', options.nodeProviderConfigPath],
  };
  if (options.tokenAttributes) entry.tokenAttributes = buildTokenAttributes(options.tokenAttributes, options.version);
  return entry;
}

/**
 * tokenAttributes as this kubelet decodes it: absent before 1.33 (refused), without cacheType in
 * 1.33 (an unknown field there), with cacheType required from 1.34.
 */
export function buildTokenAttributes(input: TokenAttributesInput, version: KubeletVersion): Record<string, unknown> {
  const support = tokenAttributesSupport(version);
  if (support === 'none') throw new ProviderError('config', `kubelet ${version.text} does not support service account tokens for credential providers (1.33 or later)`);
  const out: Record<string, unknown> = { serviceAccountTokenAudience: input.serviceAccountTokenAudience };
  if (support === 'with-cache-type') out['cacheType'] = input.cacheType ?? 'ServiceAccount';
  out['requireServiceAccount'] = input.requireServiceAccount;
  if (input.requiredServiceAccountAnnotationKeys?.length) out['requiredServiceAccountAnnotationKeys'] = input.requiredServiceAccountAnnotationKeys;
  if (input.optionalServiceAccountAnnotationKeys?.length) out['optionalServiceAccountAnnotationKeys'] = input.optionalServiceAccountAnnotationKeys;
  return out;
}
