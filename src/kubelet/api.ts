// Wire types of the kubelet credential provider exec protocol
// (group credentialprovider.kubelet.k8s.io). The three versions have identical
// response shapes; only v1 requests may carry the service-account fields.

export const PROVIDER_API_VERSIONS = [
  'credentialprovider.kubelet.k8s.io/v1',
  'credentialprovider.kubelet.k8s.io/v1beta1',
  'credentialprovider.kubelet.k8s.io/v1alpha1',
] as const;

export type ProviderApiVersion = (typeof PROVIDER_API_VERSIONS)[number];

// Case-sensitive: any other value makes the kubelet discard the whole response.
export type CacheKeyType = 'Image' | 'Registry' | 'Global';

// Only username/password reach the CRI; empty strings are valid.
export interface AuthConfig {
  username: string;
  password: string;
}

export interface CredentialProviderRequest {
  apiVersion: ProviderApiVersion;
  // Normalized repository name: host[:port]/path, no tag or digest.
  image: string;
  // v1 only (kubelet 1.33+, tokenAttributes configured).
  serviceAccountToken?: string;
  serviceAccountAnnotations?: Record<string, string>;
}

export interface CredentialProviderResponse {
  kind: 'CredentialProviderResponse';
  // Must equal the request's apiVersion exactly.
  apiVersion: ProviderApiVersion;
  cacheKeyType: CacheKeyType;
  // Go duration string, e.g. "5m0s"; absent means the config's defaultCacheDuration.
  cacheDuration?: string;
  // Keys are kubelet match patterns (see match.ts).
  auth?: Record<string, AuthConfig>;
}

export function isProviderApiVersion(v: unknown): v is ProviderApiVersion {
  return typeof v === 'string' && (PROVIDER_API_VERSIONS as readonly string[]).includes(v);
}
