// Legacy RPC signature (HMAC-SHA1, SignatureVersion 1.0), what openapi-client sends with
// signatureAlgorithm "v2": everything, signature included, travels as query (or form) parameters.
// StringToSign = METHOD & enc("/") & enc(sorted "enc(k)=enc(v)" joined by "&", without Signature)
// Signature    = base64(HMAC-SHA1(secret + "&", StringToSign))
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DEFAULT_MAX_SKEW_MS, canonicalQueryString, percentEncode } from './signature-v3.ts';
import type { NonceStore, SecretLookup } from './signature-v3.ts';

export type RpcV1ErrorCode =
  | 'MissingAccessKeyId'
  | 'MissingSignature'
  | 'IncompleteSignature'
  | 'InvalidSignatureMethod'
  | 'InvalidAccessKeyId.NotFound'
  | 'SignatureDoesNotMatch'
  | 'InvalidTimeStamp.Format'
  | 'InvalidTimeStamp.Expired'
  | 'SignatureNonceUsed';

export type RpcV1VerifyResult =
  | { ok: true; accessKeyId: string; securityToken: string | undefined }
  | { ok: false; status: number; code: RpcV1ErrorCode; message: string; accessKeyId?: string };

export function rpcV1StringToSign(method: string, params: readonly (readonly [string, string])[]): string {
  const canonical = canonicalQueryString(params.filter(([k]) => k !== 'Signature'));
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

export function rpcV1Signature(secret: string, toSign: string): string {
  return createHmac('sha1', `${secret}&`).update(toSign).digest('base64');
}

/** Verifies a v1 RPC request; `params` are query plus form-body parameters, decoded. */
export function verifyRpcV1Request(
  method: string,
  params: readonly (readonly [string, string])[],
  lookupSecret: SecretLookup,
  options: { now?: number; maxSkewMs?: number; nonces?: NonceStore } = {},
): RpcV1VerifyResult {
  const get = (name: string): string | undefined => params.find(([k]) => k === name)?.[1];
  const akId = get('AccessKeyId');
  if (!akId) return { ok: false, status: 400, code: 'MissingAccessKeyId', message: 'AccessKeyId is mandatory for this action.' };
  const fail = (status: number, code: RpcV1ErrorCode, message: string): RpcV1VerifyResult => ({ ok: false, status, code, message, accessKeyId: akId });
  const signature = get('Signature');
  if (!signature) return fail(400, 'MissingSignature', 'Signature is mandatory for this action.');
  if (get('SignatureMethod') !== 'HMAC-SHA1') return fail(400, 'InvalidSignatureMethod', 'Only HMAC-SHA1 is supported.');
  const nonce = get('SignatureNonce');
  if (!nonce) return fail(400, 'IncompleteSignature', 'SignatureNonce is mandatory for this action.');
  const ts = get('Timestamp') ?? '';
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(ts)) return fail(400, 'InvalidTimeStamp.Format', `Timestamp "${ts}" is not YYYY-MM-DDTHH:MM:SSZ.`);
  const now = options.now ?? Date.now();
  if (Math.abs(Date.parse(ts) - now) > (options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
    return fail(400, 'InvalidTimeStamp.Expired', `Timestamp ${ts} is outside the allowed window.`);
  }
  const secret = lookupSecret(akId);
  if (secret === undefined) return fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  const toSign = rpcV1StringToSign(method, params);
  const expected = Buffer.from(rpcV1Signature(secret, toSign));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return fail(400, 'SignatureDoesNotMatch', `Specified signature does not match our calculation. server string to sign is:${toSign}`);
  }
  if (options.nonces && !options.nonces.claim(nonce, now)) return fail(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
  return { ok: true, accessKeyId: akId, securityToken: get('SecurityToken') };
}
