// Decoding of the CredentialProviderRequest the kubelet writes on stdin.
// Strict about what we rely on, lenient about additions (new kubelet versions
// may add fields). Messages never echo the input: it may hold an SA token.

import { isProviderApiVersion } from './api.ts';
import type { CredentialProviderRequest } from './api.ts';
import { ProviderError } from '../errors.ts';

// Far above any real request (an image name plus a JWT and a few annotations).
export const MAX_REQUEST_BYTES = 256 * 1024;

const V1 = 'credentialprovider.kubelet.k8s.io/v1';

export function decodeRequest(raw: string): CredentialProviderRequest {
  if (Buffer.byteLength(raw, 'utf8') > MAX_REQUEST_BYTES) {
    throw new ProviderError('input', `request is larger than ${MAX_REQUEST_BYTES} bytes`);
  }
  const text = raw.replace(/^\uFEFF/, '').trim();
  if (text === '') throw new ProviderError('input', 'request is empty: expected a CredentialProviderRequest JSON object on stdin');

  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // V8's message quotes input text, so it is deliberately not included.
    throw new ProviderError('input', 'request is not valid JSON');
  }
  if (!isPlainObject(doc)) {
    throw new ProviderError('input', `request must be a JSON object, got ${describe(doc)}`);
  }

  const { kind, apiVersion, image } = doc;
  if (kind === undefined) throw new ProviderError('input', 'request has no "kind"');
  if (kind !== 'CredentialProviderRequest') {
    throw new ProviderError('input', `request kind must be "CredentialProviderRequest", got ${short(kind)}`);
  }
  if (apiVersion === undefined) throw new ProviderError('input', 'request has no "apiVersion"');
  if (!isProviderApiVersion(apiVersion)) {
    throw new ProviderError('input', `unsupported request apiVersion ${short(apiVersion)}`);
  }
  if (image === undefined || image === null) throw new ProviderError('input', 'request has no "image"');
  if (typeof image !== 'string') throw new ProviderError('input', `request "image" must be a string, got ${describe(image)}`);
  if (image === '') throw new ProviderError('input', 'request "image" is empty');

  const request: CredentialProviderRequest = { apiVersion, image };
  // The SA fields exist only in v1; older versions drop them on conversion.
  if (apiVersion !== V1) return request;

  // null is what Go would read as absent, so treat it the same.
  const token = doc['serviceAccountToken'];
  if (token !== undefined && token !== null) {
    if (typeof token !== 'string') {
      throw new ProviderError('input', `request "serviceAccountToken" must be a string, got ${describe(token)}`);
    }
    // Go's omitempty: an empty token is the same as no token.
    if (token !== '') request.serviceAccountToken = token;
  }

  const annotations = doc['serviceAccountAnnotations'];
  if (annotations !== undefined && annotations !== null) {
    if (!isPlainObject(annotations)) {
      throw new ProviderError('input', `request "serviceAccountAnnotations" must be an object, got ${describe(annotations)}`);
    }
    const entries = Object.entries(annotations);
    for (const [, value] of entries) {
      if (typeof value !== 'string') {
        throw new ProviderError('input', `request "serviceAccountAnnotations" values must be strings, got ${describe(value)}`);
      }
    }
    // fromEntries defines own properties, so a "__proto__" key stays data.
    if (entries.length > 0) request.serviceAccountAnnotations = Object.fromEntries(entries) as Record<string, string>;
  }
  return request;
}

// The registry part of an image: everything before the first '/', port
// included. Same as the kubelet's parseRegistry (used for the Registry cache key).
export function registryHostOf(image: string): string {
  const slash = image.indexOf('/');
  return slash === -1 ? image : image.slice(0, slash);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// A type name only: values might be secrets.
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return t === 'object' || t === 'undefined' ? `an ${t}` : `a ${t}`;
}

// Short fields like kind/apiVersion may be quoted, truncated, on one line.
function short(v: unknown): string {
  if (typeof v !== 'string') return describe(v);
  return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v);
}
