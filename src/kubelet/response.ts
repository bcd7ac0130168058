// Encoding of the CredentialProviderResponse written to stdout. The kubelet
// decodes it strictly: exact field names, no extra fields, a string duration,
// and nothing else on stdout.

import { isProviderApiVersion } from './api.ts';
import type { AuthConfig, CacheKeyType, CredentialProviderResponse, ProviderApiVersion } from './api.ts';
import { formatGoDuration } from './go-duration.ts';

const CACHE_KEY_TYPES: readonly string[] = ['Image', 'Registry', 'Global'];

export function encodeResponse(r: {
  apiVersion: ProviderApiVersion;
  cacheKeyType: CacheKeyType;
  cacheDurationMs?: number;
  auth?: Record<string, AuthConfig>;
}): string {
  // Guards against untyped callers: the kubelet would silently drop the reply.
  if (!isProviderApiVersion(r.apiVersion)) throw new TypeError('encodeResponse: unsupported apiVersion');
  if (!CACHE_KEY_TYPES.includes(r.cacheKeyType)) throw new TypeError('encodeResponse: invalid cacheKeyType');

  // Property insertion order is the JSON field order.
  const out: CredentialProviderResponse = {
    kind: 'CredentialProviderResponse',
    apiVersion: r.apiVersion,
    cacheKeyType: r.cacheKeyType,
  };
  if (r.cacheDurationMs !== undefined) out.cacheDuration = formatGoDuration(r.cacheDurationMs);
  if (r.auth !== undefined && Object.keys(r.auth).length > 0) {
    // Copy only username/password so stray properties never reach the kubelet.
    const auth: Record<string, AuthConfig> = {};
    for (const [key, cfg] of Object.entries(r.auth)) {
      if (typeof cfg.username !== 'string' || typeof cfg.password !== 'string') {
        throw new TypeError('encodeResponse: auth entries need string username and password');
      }
      Object.defineProperty(auth, key, {
        value: { username: cfg.username, password: cfg.password },
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    out.auth = auth;
  }
  return `${JSON.stringify(out)}\n`;
}
