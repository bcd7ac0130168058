// ServiceAccount tokens as a Kubernetes API server with RRSA signs them (RS256 JWTs from the
// cluster's OIDC issuer), and their verification as STS does it. Tests mint tokens with
// mintServiceAccountToken; the STS emulator verifies them with verifyJwt.
import { createSign, createVerify, randomUUID, type KeyObject } from 'node:crypto';
import type { OidcProvider } from './cloud-state.ts';

export interface ServiceAccountTokenInput {
  namespace: string;
  name: string;
  /** The ServiceAccount's UID; default: a stable one derived from namespace/name. */
  uid?: string;
  /** Default: the provider's first client id (sts.aliyuncs.com). */
  audience?: string | string[];
  /** Default 3600. Negative: already expired. */
  expiresInSeconds?: number;
  /** Default: the provider's issuer. */
  issuer?: string;
  /** Signs with another key (a forged token). */
  signingKey?: KeyObject;
  /** Leaves out the "kubernetes.io" claim (only "sub"). */
  omitKubernetesClaim?: boolean;
  /** Overrides or extra claims. */
  claims?: Record<string, unknown>;
}

export function saUid(namespace: string, name: string): string {
  // Deterministic per (namespace, name) unless a test recreates the ServiceAccount with a new uid.
  const hex = Buffer.from(`${namespace}/${name}`).toString('hex').padEnd(32, '0').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function mintServiceAccountToken(provider: OidcProvider, input: ServiceAccountTokenInput): string {
  const now = Math.floor(Date.now() / 1000);
  const uid = input.uid ?? saUid(input.namespace, input.name);
  const claims: Record<string, unknown> = {
    aud: input.audience ?? provider.clientIds[0],
    exp: now + (input.expiresInSeconds ?? 3600),
    iat: now,
    iss: input.issuer ?? provider.issuer,
    jti: randomUUID(),
    nbf: now,
    sub: `system:serviceaccount:${input.namespace}:${input.name}`,
  };
  if (!input.omitKubernetesClaim) {
    claims['kubernetes.io'] = {
      namespace: input.namespace,
      node: { name: 'node-1', uid: '0b9b6d1e-0000-4000-8000-000000000001' },
      pod: { name: `${input.name}-pod`, uid: randomUUID() },
      serviceaccount: { name: input.name, uid },
    };
  }
  Object.assign(claims, input.claims ?? {});
  return signJwt({ alg: 'RS256', kid: provider.kid, typ: 'JWT' }, claims, input.signingKey ?? provider.privateKey);
}

export function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  const encode = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${encode(header)}.${encode(claims)}`;
  const signature = createSign('RSA-SHA256').update(input).sign(key).toString('base64url');
  return `${input}.${signature}`;
}

export type JwtCheck = { ok: true; claims: Record<string, unknown> } | { ok: false; code: string; message: string };

/** Parses and checks signature and expiry; audience and issuer are the caller's business. */
export function verifyJwt(token: string, key: KeyObject, now = Date.now()): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, code: 'AuthenticationFail.OIDCToken.Invalid', message: "The number of Jwt field should be divided into 3 parts with '.' ." };
  const [h, p, sig] = parts as [string, string, string];
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, code: 'AuthenticationFail.OIDCToken.Invalid', message: 'The Jwt content is invalid that cannot be recognized.' };
  }
  if (header.alg !== 'RS256') return { ok: false, code: 'AuthenticationFail.OIDCToken.Invalid', message: `The algorithm ${String(header.alg)} that be specified in Jwt header is unknown.` };
  const valid = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(key, Buffer.from(sig, 'base64url'));
  if (!valid) return { ok: false, code: 'AuthenticationFail.OIDCToken.InvalidSignature', message: 'OIDC token validate failed: invalid signature.' };
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now) return { ok: false, code: 'AuthenticationFail.OIDCToken.Expired', message: 'This JsonWebToken is expired.' };
  return { ok: true, claims };
}
