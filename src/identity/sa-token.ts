// The claims of the ServiceAccount token the kubelet sends (KEP-4412), read without verifying
// the signature: the kubelet is our only caller and got the token from the API server, and STS
// verifies the signature on every miss. Small pure code, because the hit path needs the claims
// for cache keys and namespace checks. Messages never quote the token.
import { ProviderError } from '../errors.ts';

export interface ServiceAccountClaims {
  namespace: string;
  name: string;
  /** The ServiceAccount's UID: a recreated ServiceAccount is a different identity. */
  uid: string;
  issuer: string;
  audiences: string[];
  /** Epoch ms, when present. */
  expiresAt?: number;
}

/** Tokens are accepted this long past `exp`, for clock skew between node and API server. */
const EXPIRY_LEEWAY_MS = 60_000;
const SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;

export function readServiceAccountClaims(token: string): ServiceAccountClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[1]) {
    throw invalid('it is not a JWT');
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw invalid('its payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw invalid('its payload is not an object');
  const p = payload as Record<string, unknown>;
  const sub = typeof p.sub === 'string' ? SUBJECT.exec(p.sub) : null;
  const k8s = typeof p['kubernetes.io'] === 'object' && p['kubernetes.io'] !== null ? (p['kubernetes.io'] as Record<string, unknown>) : undefined;
  const sa = typeof k8s?.serviceaccount === 'object' && k8s.serviceaccount !== null ? (k8s.serviceaccount as Record<string, unknown>) : undefined;
  const namespace = sub?.[1] ?? stringOr(k8s?.namespace);
  const name = sub?.[2] ?? stringOr(sa?.name);
  if (!namespace || !name) throw invalid('it names no ServiceAccount (no "sub: system:serviceaccount:<namespace>:<name>" claim)');
  // Both forms present must agree: a token that says two things is not trusted for either.
  if ((k8s?.namespace !== undefined && k8s.namespace !== namespace) || (sa?.name !== undefined && sa.name !== name)) {
    throw invalid('its "sub" and "kubernetes.io" claims disagree');
  }
  const uid = stringOr(sa?.uid);
  if (!uid) throw invalid('it has no ServiceAccount uid ("kubernetes.io".serviceaccount.uid)');
  const issuer = stringOr(p.iss) ?? '';
  const audiences = typeof p.aud === 'string' ? [p.aud] : Array.isArray(p.aud) ? p.aud.filter((a): a is string => typeof a === 'string') : [];
  const claims: ServiceAccountClaims = { namespace, name, uid, issuer, audiences };
  if (typeof p.exp === 'number' && Number.isFinite(p.exp)) claims.expiresAt = p.exp * 1000;
  return claims;
}

/** A token past its expiry (with leeway) would be refused by STS anyway: say so up front. */
export function checkTokenUsable(claims: ServiceAccountClaims, audience: string, now: number): void {
  if (claims.expiresAt !== undefined && claims.expiresAt + EXPIRY_LEEWAY_MS < now) {
    throw new ProviderError('input', `the service account token of ${claims.namespace}/${claims.name} expired ${Math.round((now - claims.expiresAt) / 1000)}s ago: check the node's clock`);
  }
  if (!claims.audiences.includes(audience)) {
    throw new ProviderError('config', `the service account token of ${claims.namespace}/${claims.name} is not for audience "${audience}": set tokenAttributes.serviceAccountTokenAudience in the kubelet's CredentialProviderConfig to "${audience}" (or serviceAccount.audience here to match it)`);
  }
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function invalid(why: string): ProviderError {
  return new ProviderError('input', `the request's serviceAccountToken is unusable: ${why}`);
}
