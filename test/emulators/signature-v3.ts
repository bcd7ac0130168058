// Alibaba Cloud ACS3-HMAC-SHA256 ("V3") request signature: canonicalization, signing and
// server-side verification. Pure functions plus a small nonce store, so the CR emulator can
// reject exactly what the real POP gateway rejects and tests can hand-craft signed requests.
//
// Canonical request (Alibaba V3 spec):
//   METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
// StringToSign = "ACS3-HMAC-SHA256\n" + hex(sha256(CanonicalRequest))
// Signature    = hex(HMAC-SHA256(secret, StringToSign))
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';
export const EMPTY_SHA256 = sha256Hex('');
/** The real gateway accepts x-acs-date within ±15 minutes of its clock. */
export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

export type HeaderValue = string | readonly string[] | undefined;
export type HeaderMap = Readonly<Record<string, HeaderValue>>;
export type QueryInput = URLSearchParams | readonly (readonly [string, string])[] | Readonly<Record<string, string>>;

export interface Acs3Request {
  method: string;
  /** Raw (still percent-encoded) path without the query string, e.g. "/" or "/tokens". */
  path: string;
  /** Decoded query parameters. */
  query: QueryInput;
  /** Header names in any case; arrays for repeated headers. */
  headers: HeaderMap;
  body: string | Uint8Array;
}

export type Acs3ErrorCode =
  | 'MissingAuthorization'
  | 'IncompleteSignature'
  | 'InvalidSignatureMethod'
  | 'InvalidAccessKeyId.NotFound'
  | 'SignatureDoesNotMatch'
  | 'ContentSHA256Mismatch'
  | 'InvalidTimeStamp.Format'
  | 'InvalidTimeStamp.Expired'
  | 'SignatureNonceUsed';

export type Acs3VerifyResult =
  | { ok: true; accessKeyId: string; signedHeaders: string[]; securityToken: string | undefined }
  | { ok: false; status: number; code: Acs3ErrorCode; message: string; accessKeyId?: string };

/** Returns the secret for an AccessKeyId, or undefined when the key does not exist. */
export type SecretLookup = (accessKeyId: string) => string | undefined;

export interface Acs3VerifyOptions {
  /** Clock for the x-acs-date window (ms since epoch). Defaults to Date.now(). */
  now?: number;
  maxSkewMs?: number;
  /** Where seen nonces are remembered; without one, replay is not checked. */
  nonces?: NonceStore;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmacSha256Hex(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

/** RFC 3986 encoding as Alibaba specifies it: space → %20, "*" → %2A, "~" kept, and !'() escaped. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function queryPairs(query: QueryInput): [string, string][] {
  if (query instanceof URLSearchParams) return [...query.entries()];
  if (Array.isArray(query)) return query.map(([k, v]) => [k, v] as [string, string]);
  return Object.entries(query as Readonly<Record<string, string>>);
}

/** Sorted "k=v" pairs, key and value percent-encoded, joined by "&". */
export function canonicalQueryString(query: QueryInput): string {
  const pairs = queryPairs(query).map(([k, v]) => [percentEncode(k), percentEncode(v)] as const);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Lower-cased header name → trimmed values (repeated headers keep every value). */
export function normalizeHeaders(headers: HeaderMap): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const list = out.get(key) ?? [];
    for (const v of typeof value === 'string' ? [value] : value) list.push(v.trim());
    out.set(key, list);
  }
  return out;
}

/** The headers a V3 signer must sign: host, content-type and every x-acs-* header. */
export function headersToSign(headers: HeaderMap): string[] {
  return [...normalizeHeaders(headers).keys()]
    .filter((k) => k === 'host' || k === 'content-type' || k.startsWith('x-acs-'))
    .sort();
}

/** "name:v1,v2\n" per signed header, values sorted like the SDK does. */
export function canonicalHeaders(headers: HeaderMap, signedHeaders: readonly string[]): string {
  const map = normalizeHeaders(headers);
  return signedHeaders.map((name) => `${name}:${[...(map.get(name) ?? [])].sort().join(',')}\n`).join('');
}

export function canonicalRequest(req: Acs3Request, signedHeaders: readonly string[], hashedPayload: string): string {
  return [
    req.method.toUpperCase(),
    req.path === '' ? '/' : req.path,
    canonicalQueryString(req.query),
    canonicalHeaders(req.headers, signedHeaders),
    signedHeaders.join(';'),
    hashedPayload,
  ].join('\n');
}

export function stringToSign(canonical: string): string {
  return `${ACS3_ALGORITHM}\n${sha256Hex(canonical)}`;
}

/** Formats a date as x-acs-date wants it: YYYY-MM-DDTHH:MM:SSZ. */
export function acsDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface SignOptions {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  nonce?: string;
  date?: string;
}

/**
 * Signs a request the way @alicloud/openapi-client does and returns the full header set
 * (input headers + x-acs-date/nonce/content-sha256[/security token] + Authorization).
 * Used by tests to hand-craft requests (wrong secret, replayed nonce, tampered body).
 */
export function signAcs3Request(req: Acs3Request, opts: SignOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of normalizeHeaders(req.headers)) headers[k] = v.join(',');
  headers['x-acs-date'] = opts.date ?? acsDate(Date.now());
  headers['x-acs-signature-nonce'] = opts.nonce ?? randomUUID();
  const payloadHash = sha256Hex(req.body);
  headers['x-acs-content-sha256'] = payloadHash;
  if (opts.securityToken !== undefined) {
    headers['x-acs-accesskey-id'] = opts.accessKeyId;
    headers['x-acs-security-token'] = opts.securityToken;
  }
  const signed = headersToSign(headers);
  const sts = stringToSign(canonicalRequest({ ...req, headers }, signed, payloadHash));
  const signature = hmacSha256Hex(opts.accessKeySecret, sts);
  headers['authorization'] = `${ACS3_ALGORITHM} Credential=${opts.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`;
  return headers;
}

interface ParsedAuthorization {
  algorithm: string;
  credential: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex". */
export function parseAuthorization(value: string): ParsedAuthorization | undefined {
  const m = /^(\S+)\s+(.*)$/.exec(value.trim());
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const fields = new Map<string, string>();
  for (const part of m[2].split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return undefined;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) return undefined;
  return { algorithm: m[1], credential, signedHeaders: signedHeaders.split(';'), signature };
}

/** Remembers nonces until they could no longer pass the date check anyway. */
export class NonceStore {
  readonly #seen = new Map<string, number>();
  readonly #ttlMs: number;
  constructor(ttlMs = 2 * DEFAULT_MAX_SKEW_MS) {
    this.#ttlMs = ttlMs;
  }
  /** Records the nonce; returns false when it was already used. */
  claim(nonce: string, now = Date.now()): boolean {
    for (const [n, until] of this.#seen) if (until <= now) this.#seen.delete(n);
    if (this.#seen.has(nonce)) return false;
    this.#seen.set(nonce, now + this.#ttlMs);
    return true;
  }
}

const fail = (status: number, code: Acs3ErrorCode, message: string, accessKeyId?: string): Acs3VerifyResult =>
  accessKeyId === undefined ? { ok: false, status, code, message } : { ok: false, status, code, message, accessKeyId };

function safeEqualHex(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/**
 * Verifies a V3-signed request. Checks, in order: Authorization present and well-formed,
 * host and every x-acs-* header signed, x-acs-date format and window, x-acs-content-sha256,
 * AccessKeyId known, signature, nonce not replayed. It does not judge the security token:
 * that is the caller's business (it knows which token belongs to which STS key).
 */
export function verifyAcs3Request(req: Acs3Request, lookupSecret: SecretLookup, options: Acs3VerifyOptions = {}): Acs3VerifyResult {
  const headers = normalizeHeaders(req.headers);
  const first = (name: string): string | undefined => headers.get(name)?.[0];
  const authorization = first('authorization');
  if (authorization === undefined || authorization === '') {
    return fail(400, 'MissingAuthorization', 'The Authorization header is required.');
  }
  const auth = parseAuthorization(authorization);
  if (!auth) return fail(400, 'IncompleteSignature', 'The Authorization header does not conform to the ACS3 format.');
  if (auth.algorithm !== ACS3_ALGORITHM) {
    return fail(400, 'InvalidSignatureMethod', `Signature algorithm ${auth.algorithm} is not supported by this emulator.`);
  }
  const akId = auth.credential;
  // Everything the gateway relies on must be covered by the signature.
  const mustSign = [...headers.keys()].filter((k) => k === 'host' || k.startsWith('x-acs-'));
  const missing = mustSign.filter((k) => !auth.signedHeaders.includes(k));
  if (missing.length > 0) return fail(400, 'IncompleteSignature', `Headers must be signed: ${missing.join(', ')}.`, akId);
  for (const required of ['host', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']) {
    if (first(required) === undefined) return fail(400, 'IncompleteSignature', `Header ${required} is required.`, akId);
  }
  const unknownSigned = auth.signedHeaders.filter((k) => !headers.has(k));
  if (unknownSigned.length > 0) return fail(400, 'IncompleteSignature', `Signed headers are absent: ${unknownSigned.join(', ')}.`, akId);

  const date = first('x-acs-date') ?? '';
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(date) || Number.isNaN(Date.parse(date))) {
    return fail(400, 'InvalidTimeStamp.Format', `x-acs-date "${date}" is not YYYY-MM-DDTHH:MM:SSZ.`, akId);
  }
  const now = options.now ?? Date.now();
  if (Math.abs(Date.parse(date) - now) > (options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
    return fail(400, 'InvalidTimeStamp.Expired', `x-acs-date ${date} is outside the allowed window.`, akId);
  }
  const payloadHash = sha256Hex(req.body);
  if (first('x-acs-content-sha256') !== payloadHash) {
    return fail(400, 'ContentSHA256Mismatch', 'x-acs-content-sha256 does not match the SHA-256 of the request body.', akId);
  }
  const secret = lookupSecret(akId);
  if (secret === undefined) return fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.', akId);

  const toSign = stringToSign(canonicalRequest(req, auth.signedHeaders, payloadHash));
  if (!safeEqualHex(hmacSha256Hex(secret, toSign), auth.signature.toLowerCase())) {
    // The real gateway echoes its string to sign; it contains no secret.
    return fail(400, 'SignatureDoesNotMatch', `Specified signature does not match our calculation. server string to sign is:${toSign}`, akId);
  }
  const nonce = first('x-acs-signature-nonce') ?? '';
  if (options.nonces && !options.nonces.claim(nonce, now)) {
    return fail(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.', akId);
  }
  return { ok: true, accessKeyId: akId, signedHeaders: auth.signedHeaders, securityToken: first('x-acs-security-token') };
}
