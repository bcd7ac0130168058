import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoDuration } from '../../../src/kubelet/go-duration.ts';
import {
  MAX_TOKEN_LIFETIME_MS,
  SHORT_LIVED_REUSE_MS,
  STALE_SAFETY_MS,
  cacheDurationMs,
  canServeStale,
  isFresh,
  isNoCredentialsEntry,
  isTokenEntry,
  newNoCredentialsEntry,
  newTokenEntry,
  refreshTime,
  staleCacheDurationMs,
  type TokenEntry,
} from '../../../src/provider/token-entry.ts';

const T0 = 1_700_000_000_000;
const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('refreshTime / newTokenEntry', () => {
  it('is expiry minus threshold for a normal token', () => {
    const e = newTokenEntry('cr_temp_user', 'pw', T0, T0 + H, 15 * M);
    assert.deepEqual(e, { username: 'cr_temp_user', password: 'pw', obtainedAt: T0, expiresAt: T0 + H, refreshAt: T0 + 45 * M });
  });

  const rows: Array<[string, number, number, number]> = [
    // [name, life, threshold, expected refreshAt - obtainedAt]
    ['1h token, 15m threshold', H, 15 * M, 45 * M],
    ['1h token, 0 threshold', H, 0, H],
    ['1h token, 50m threshold', H, 50 * M, 10 * M],
    ['threshold one ms short of the life', H, H - 1, 1],
    // Shorter than the threshold: half its life, at most SHORT_LIVED_REUSE_MS.
    ['life equal to the threshold', 15 * M, 15 * M, SHORT_LIVED_REUSE_MS],
    ['10m token, 15m threshold', 10 * M, 15 * M, SHORT_LIVED_REUSE_MS],
    ['90s token, 15m threshold', 90 * S, 15 * M, 45 * S],
    ['2s token, 15m threshold', 2 * S, 15 * M, S],
    ['1ms token', 1, 15 * M, 0],
    ['already expired token', -5 * S, 15 * M, 0],
  ];
  for (const [name, life, threshold, want] of rows) {
    it(`${name} -> refresh after ${want} ms`, () => {
      assert.equal(refreshTime(T0, T0 + life, threshold) - T0, want);
    });
  }

  it('a token shorter than the threshold: short refresh, <= 60 s and <= half its life, duration >= 0', () => {
    for (let life = -10 * S; life <= 15 * M; life += 7_777) {
      const e = newTokenEntry('u', 'p', T0, T0 + life, 15 * M);
      const wait = e.refreshAt - T0;
      assert.ok(wait >= 0, `life ${life}: refresh before it was obtained`);
      assert.ok(wait <= SHORT_LIVED_REUSE_MS, `life ${life}: wait ${wait} > 60 s`);
      assert.ok(wait <= Math.max(0, life) / 2, `life ${life}: wait ${wait} > half the life`);
      const d = cacheDurationMs(e, T0);
      assert.ok(d >= 0 && d <= wait, `life ${life}: duration ${d}`);
      assert.equal(d % 1000, 0);
    }
  });
});

describe('cacheDurationMs', () => {
  it('never exceeds remaining life - threshold for a normal token, in whole seconds', () => {
    const threshold = 15 * M;
    const e = newTokenEntry('u', 'p', T0, T0 + H, threshold);
    for (let now = T0; now < T0 + H + M; now += 12_345) {
      const d = cacheDurationMs(e, now);
      assert.equal(d % 1000, 0, `not whole seconds at +${now - T0}`);
      assert.ok(d >= 0);
      assert.ok(d <= Math.max(0, e.expiresAt - now - threshold), `at +${now - T0}: ${d}`);
      // ...and is not needlessly short: within a second of the refresh point.
      assert.ok(d > e.refreshAt - now - 1000, `at +${now - T0}: ${d} too short`);
    }
  });

  const rows: Array<[string, number, number]> = [
    ['at obtain time', 0, 45 * M],
    ['half a second in (rounded down)', 500, 45 * M - S],
    ['one ms before refresh', 45 * M - 1, 0],
    ['at refresh', 45 * M, 0],
    ['after expiry', H + S, 0],
  ];
  for (const [name, offset, want] of rows) {
    it(`${name} -> ${want}`, () => {
      assert.equal(cacheDurationMs(newTokenEntry('u', 'p', T0, T0 + H, 15 * M), T0 + offset), want);
    });
  }

  it('is bounded by expiresAt when a (hand-made) entry refreshes after it expires', () => {
    const e: TokenEntry = { username: 'u', password: 'p', obtainedAt: T0, expiresAt: T0 + 10 * S, refreshAt: T0 + 20 * S };
    assert.equal(cacheDurationMs(e, T0), 10 * S);
  });
});

describe('isFresh', () => {
  const e = newTokenEntry('u', 'p', T0, T0 + H, 15 * M);
  const rows: Array<[number, boolean]> = [
    [0, true],
    [45 * M - 1, true],
    [45 * M, false],
    [H - 1, false],
    [H, false],
  ];
  for (const [offset, want] of rows) {
    it(`+${offset} ms -> ${want}`, () => assert.equal(isFresh(e, T0 + offset), want));
  }
  it('is false once expired even before refreshAt', () => {
    const odd: TokenEntry = { ...e, refreshAt: T0 + 2 * H };
    assert.equal(isFresh(odd, T0 + H), false);
    assert.equal(isFresh(odd, T0 + H - 1), true);
  });
});

describe('canServeStale / staleCacheDurationMs', () => {
  const e = newTokenEntry('u', 'p', T0, T0 + H, 15 * M);
  const rows: Array<[string, number, boolean, number]> = [
    // [name, time left, can serve, stale cache duration]
    ['10 minutes left', 10 * M, true, SHORT_LIVED_REUSE_MS],
    ['3 minutes left', 3 * M, true, SHORT_LIVED_REUSE_MS],
    ['2 minutes left', 2 * M, true, 30 * S],
    ['61.5 s left', 61_500, true, 0],
    ['63 s left', 63 * S, true, S],
    ['exactly the safety margin left', STALE_SAFETY_MS, false, 0],
    ['30 s left', 30 * S, false, 0],
    ['expired', -M, false, 0],
  ];
  for (const [name, left, serve, duration] of rows) {
    it(`${name}: serve=${serve}, duration=${duration}`, () => {
      const now = e.expiresAt - left;
      assert.equal(canServeStale(e, now), serve);
      const d = staleCacheDurationMs(e, now);
      assert.equal(d, duration);
      assert.ok(Object.is(d, 0) || d > 0, 'never negative (or -0)');
      assert.equal(d % 1000, 0);
      // A stale token is never cached by the kubelet past the safety margin.
      if (serve) assert.ok(now + d <= e.expiresAt - STALE_SAFETY_MS);
    });
  }
});

describe('isTokenEntry', () => {
  const good: TokenEntry = { username: 'cr_temp_user', password: 'secret', obtainedAt: T0, expiresAt: T0 + H, refreshAt: T0 + 45 * M };

  it('accepts a well-formed entry (extra fields are tolerated)', () => {
    assert.equal(isTokenEntry(good), true);
    assert.equal(isTokenEntry({ ...good, note: 'x' }), true);
    assert.equal(isTokenEntry({ ...good, username: '' }), true);
  });

  const bad: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['a string', JSON.stringify(good)],
    ['a number', 42],
    ['an array', [good]],
    ['an empty object', {}],
    ['an empty password', { ...good, password: '' }],
    ['a numeric password', { ...good, password: 123 }],
    ['a missing username', { ...good, username: undefined }],
    ['a null username', { ...good, username: null }],
    ['a string obtainedAt', { ...good, obtainedAt: String(T0) }],
    ['a NaN expiresAt', { ...good, expiresAt: Number.NaN }],
    ['an infinite refreshAt', { ...good, refreshAt: Number.POSITIVE_INFINITY }],
    ['a missing refreshAt', { username: 'u', password: 'p', obtainedAt: T0, expiresAt: T0 + H }],
    ['a null expiresAt', { ...good, expiresAt: null }],
    ['a lifetime beyond 24 h (cached by an older version)', { ...good, expiresAt: T0 + MAX_TOKEN_LIFETIME_MS + 1, refreshAt: T0 + H }],
    ['an expiry in the year 3000', { ...good, expiresAt: Date.UTC(3000, 0, 1), refreshAt: Date.UTC(3000, 0, 1) - 15 * M }],
    ['a refresh point after the expiry', { ...good, refreshAt: T0 + 2 * H }],
  ];
  for (const [name, value] of bad) {
    it(`rejects ${name}`, () => assert.equal(isTokenEntry(value), false));
  }
});

describe('lifetime clamp', () => {
  const rows: Array<[string, number]> = [
    ['an hour', H],
    ['exactly 24 h', MAX_TOKEN_LIFETIME_MS],
    ['25 h', 25 * H],
    ['a thousand years', 1000 * 365 * 24 * H],
    ['the year 3000', Date.UTC(3000, 0, 1) - T0],
    ['the largest safe integer', Number.MAX_SAFE_INTEGER - T0],
  ];
  for (const [name, life] of rows) {
    it(`${name}: kept at most 24 h, a valid entry, a duration the kubelet can parse`, () => {
      const e = newTokenEntry('u', 'p', T0, T0 + life, 15 * M);
      assert.equal(e.expiresAt, T0 + Math.min(life, MAX_TOKEN_LIFETIME_MS));
      assert.equal(isTokenEntry(e), true);
      const ms = cacheDurationMs(e, T0);
      assert.ok(ms <= MAX_TOKEN_LIFETIME_MS);
      assert.doesNotThrow(() => formatGoDuration(ms));
    });
  }
});

describe('isNoCredentialsEntry', () => {
  it('accepts what newNoCredentialsEntry makes, refuses a lifetime beyond 24 h (the kubelet could not be given it)', () => {
    const e = newNoCredentialsEntry('instance of another account', T0);
    assert.equal(isNoCredentialsEntry(e), true);
    assert.equal(isNoCredentialsEntry({ ...e, expiresAt: Date.UTC(3000, 0, 1), refreshAt: Date.UTC(3000, 0, 1) }), false);
    assert.equal(isNoCredentialsEntry({ ...e, refreshAt: e.expiresAt + 1 }), false);
  });
});
