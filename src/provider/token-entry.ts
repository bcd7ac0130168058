// A registry credential as cached on disk, and the timing rules that decide when it is served,
// refreshed, and how long the kubelet may keep it. Pure: no I/O, all times in epoch ms.

export interface TokenEntry {
  username: string;
  password: string;
  obtainedAt: number;
  /** When the password stops working: min(token expiry, STS session expiry). */
  expiresAt: number;
  /** From here on the entry is refreshed instead of served. */
  refreshAt: number;
  /** A registry host this token was fetched for (informational). */
  host?: string;
}

/**
 * No registry token is kept longer than this, whatever its ExpireTime says (the API's own limit is
 * a day; STS sessions end sooner). Without it, a token "valid until the year 3000" would be cached
 * with a lifetime the kubelet's Go duration cannot encode, and every later call would fail.
 */
export const MAX_TOKEN_LIFETIME_MS = 24 * 3600_000;

/**
 * "No credentials from us" for a registry, cached under its token key like a token: an
 * Enterprise-form host whose instance is not in this identity's account (e.g. PAI's public
 * dsw-registry-vpc images). The kubelet then pulls anonymously. Fresh until refreshAt.
 */
export interface NoCredentialsEntry {
  noCredentials: true;
  /** Why, for the one info line (names the host, region and what to configure). */
  reason: string;
  obtainedAt: number;
  refreshAt: number;
  expiresAt: number;
  host?: string;
}

/** What the token cache holds for a registry. */
export type CachedAnswer = TokenEntry | NoCredentialsEntry;

/** How long "no credentials" stands, in the cache and in the kubelet's. */
export const NO_CREDENTIALS_TTL_MS = 5 * 60_000;

export function newNoCredentialsEntry(reason: string, now: number): NoCredentialsEntry {
  return { noCredentials: true, reason, obtainedAt: now, refreshAt: now + NO_CREDENTIALS_TTL_MS, expiresAt: now + NO_CREDENTIALS_TTL_MS };
}

export function isNoCredentialsEntry(value: unknown): value is NoCredentialsEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.noCredentials === true && typeof v.reason === 'string' && hasServableTimes(v);
}

export function isCachedAnswer(value: unknown): value is CachedAnswer {
  return isTokenEntry(value) || isNoCredentialsEntry(value);
}

/** A token that lives less than the threshold is still used, but for at most this long. */
export const SHORT_LIVED_REUSE_MS = 60_000;
/** A stale token (refresh failed) is served only while it has at least this long to live. */
export const STALE_SAFETY_MS = 60_000;

export function newTokenEntry(username: string, password: string, obtainedAt: number, expiresAt: number, thresholdMs: number): TokenEntry {
  const clamped = Math.min(expiresAt, obtainedAt + MAX_TOKEN_LIFETIME_MS);
  return { username, password, obtainedAt, expiresAt: clamped, refreshAt: refreshTime(obtainedAt, clamped, thresholdMs) };
}

/**
 * Normally `expiresAt - threshold` (the seed's expiring-threshold). A fresh token that lives less
 * than the threshold is refreshed after half its life, capped at SHORT_LIVED_REUSE_MS, so it is
 * still returned with a short duration rather than refetched on every call.
 */
export function refreshTime(obtainedAt: number, expiresAt: number, thresholdMs: number): number {
  const normal = expiresAt - thresholdMs;
  if (normal > obtainedAt) return normal;
  const life = Math.max(0, expiresAt - obtainedAt);
  return obtainedAt + Math.min(SHORT_LIVED_REUSE_MS, Math.floor(life / 2));
}

export function isFresh(entry: CachedAnswer, now: number): boolean {
  return now < entry.refreshAt && now < entry.expiresAt;
}

/** What the kubelet may cache: until our own refresh point, whole seconds, never negative. */
export function cacheDurationMs(entry: CachedAnswer, now: number): number {
  const ms = Math.min(entry.refreshAt, entry.expiresAt) - now;
  return ms <= 0 ? 0 : Math.floor(ms / 1000) * 1000;
}

/** Static stability: a token past its refresh point may still be served if a refresh fails. */
export function canServeStale(entry: TokenEntry, now: number): boolean {
  return entry.expiresAt - now > STALE_SAFETY_MS;
}

/** Short kubelet cache time for a stale token, so the kubelet asks again soon. */
export function staleCacheDurationMs(entry: TokenEntry, now: number): number {
  const room = entry.expiresAt - now - STALE_SAFETY_MS;
  return Math.max(0, Math.floor(Math.min(SHORT_LIVED_REUSE_MS, room / 2) / 1000) * 1000);
}

/**
 * A well-formed entry whose lifetime is within MAX_TOKEN_LIFETIME_MS: an entry cached with an
 * absurd expiry (by an older version, or by hand) is not served but refetched.
 */
export function isTokenEntry(value: unknown): value is TokenEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.username === 'string' && typeof v.password === 'string' && v.password.length > 0 && hasServableTimes(v);
}

/** Finite times, refresh before expiry, and a lifetime the kubelet can be given (MAX_TOKEN_LIFETIME_MS). */
function hasServableTimes(v: Record<string, unknown>): boolean {
  const { obtainedAt, refreshAt, expiresAt } = v;
  if (typeof obtainedAt !== 'number' || typeof refreshAt !== 'number' || typeof expiresAt !== 'number') return false;
  return [obtainedAt, refreshAt, expiresAt].every(Number.isFinite) && expiresAt - obtainedAt <= MAX_TOKEN_LIFETIME_MS && refreshAt <= expiresAt;
}
