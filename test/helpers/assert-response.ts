// Assertions on a successful credential response, checked against what the emulator issued.
import assert from 'node:assert/strict';
import type { Emulators, IssuedRegistryToken } from '../emulators/index.ts';
import { keyringLookup } from './kubelet-keyring.ts';
import { assertSuccess, fullApiVersion, parseGoDurationMs, stderrLines } from './run-provider.ts';
import type { ProviderResponse, RunResult } from './run-provider.ts';

export const MIN = 60_000;
export const DEFAULT_THRESHOLD_MS = 15 * MIN;

export interface TokenExpectation {
  host: string;
  apiVersion?: string;
  /** The token the response must carry; default: the only one matching `match`. */
  token?: IssuedRegistryToken;
  /** Filter over the emulator's issued tokens when `token` is not given. */
  match?: (t: IssuedRegistryToken) => boolean;
  thresholdMs?: number;
  /** Default true: stderr must be empty (default log level, nothing went wrong). */
  quiet?: boolean;
}

/** Checks a Registry-scoped response and returns it with the issued token it carries. */
export function assertCredentials(r: RunResult, e: Emulators, x: TokenExpectation): { response: ProviderResponse; token: IssuedRegistryToken; cacheMs: number } {
  const response = assertSuccess(r);
  if (x.quiet ?? true) assert.deepEqual(stderrLines(r.stderr), [], 'stderr must be empty at the default log level');
  assert.deepEqual(Object.keys(response).sort(), ['apiVersion', 'auth', 'cacheDuration', 'cacheKeyType', 'kind']);
  assert.equal(response.kind, 'CredentialProviderResponse');
  assert.equal(response.apiVersion, fullApiVersion(x.apiVersion ?? 'v1'));
  assert.equal(response.cacheKeyType, 'Registry');
  assert.ok(response.auth);
  assert.deepEqual(Object.keys(response.auth), [x.host], 'auth must be keyed by the exact image host');
  if (r.image !== undefined) assert.deepEqual(keyringLookup({ [x.host]: 'ours' }, r.image), ['ours'], `the kubelet would not apply auth key ${x.host} to ${r.image}`);
  const entry = response.auth[x.host];
  assert.ok(entry);
  assert.deepEqual(Object.keys(entry).sort(), ['password', 'username']);
  let token = x.token;
  if (!token) {
    const candidates = e.state.issuedTokens().filter((t) => t.password === entry.password && (x.match ? x.match(t) : true));
    assert.equal(candidates.length, 1, 'the password must be a token the emulator issued (and matching the expected instance)');
    token = candidates[0];
  }
  assert.ok(token);
  assert.equal(entry.password, token.password);
  assert.equal(entry.username, token.username);
  assert.equal(typeof response.cacheDuration, 'string');
  const cacheMs = parseGoDurationMs(response.cacheDuration ?? '');
  assert.ok(cacheMs >= 0, 'cacheDuration must not be negative');
  const life = token.expiresAt - token.issuedAt;
  const threshold = x.thresholdMs ?? DEFAULT_THRESHOLD_MS;
  if (life > threshold) assert.ok(cacheMs <= life - threshold, `cacheDuration ${response.cacheDuration} exceeds token life ${life}ms minus threshold ${threshold}ms`);
  else assert.ok(cacheMs <= life, `cacheDuration ${response.cacheDuration} exceeds the token life ${life}ms`);
  return { response, token, cacheMs };
}

/** A "not mine" answer: exit 0, no auth, cached per Image. */
export function assertNoCredentials(r: RunResult, apiVersion = 'v1'): ProviderResponse {
  const response = assertSuccess(r);
  assert.equal(response.kind, 'CredentialProviderResponse');
  assert.equal(response.apiVersion, fullApiVersion(apiVersion));
  assert.equal(response.cacheKeyType, 'Image');
  assert.equal(response.auth, undefined, 'no auth for a host that is not ACR');
  for (const key of Object.keys(response)) assert.ok(['kind', 'apiVersion', 'cacheKeyType', 'cacheDuration'].includes(key), `unexpected field ${key}`);
  if (response.cacheDuration !== undefined) assert.ok(parseGoDurationMs(response.cacheDuration) >= 0);
  return response;
}
