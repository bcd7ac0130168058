import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterSessionRenewal, DEFAULT_PREWARM_POLICY, jitterFraction, prewarmAt, retryDelayMs, SESSION_RENEWAL_LEAD_MS } from '../../../src/prewarm/schedule.ts';
import { newTokenEntry } from '../../../src/provider/token-entry.ts';

const T0 = 1_800_000_000_000;
const MIN = 60_000;
const H = 60 * MIN;
const policy = { windowStart: 0.4, windowEnd: 0.6, retryBaseMs: MIN, retryMaxMs: 10 * MIN };

describe('prewarmAt', () => {
  const oneHour = newTokenEntry('u', 'p', T0, T0 + H, 15 * MIN); // fresh for 45 minutes
  const cases: Array<[string, number, number]> = [
    ['jitter 0: the window start', 0, T0 + 18 * MIN],
    ['jitter 0.5: the middle', 0.5, T0 + 22.5 * MIN],
    ['jitter just below 1: the window end', 0.999999, T0 + 27 * MIN - 1],
  ];
  for (const [name, jitter, want] of cases) it(name, () => assert.equal(prewarmAt(oneHour, jitter, policy), want));

  it('always before the kubelet refresh point, for any lifetime and threshold', () => {
    for (const life of [2 * MIN, 30 * MIN, H, 6 * H, 24 * H]) {
      for (const threshold of [0, 5 * MIN, 15 * MIN, 50 * MIN]) {
        const e = newTokenEntry('u', 'p', T0, T0 + life, threshold);
        for (const jitter of [0, 0.3, 0.99]) {
          const at = prewarmAt(e, jitter, DEFAULT_PREWARM_POLICY);
          assert.ok(at >= e.obtainedAt && at < e.refreshAt, `life ${life} threshold ${threshold} jitter ${jitter}: ${at - T0}`);
        }
      }
    }
  });

  it('the default window leaves a 1-hour token more than a 30-minute outage plus the 1-minute stale safety', () => {
    const e = newTokenEntry('u', 'p', T0, T0 + H, 15 * MIN);
    assert.ok(e.expiresAt - prewarmAt(e, 0.999999, DEFAULT_PREWARM_POLICY) > 31 * MIN);
  });
});

describe('jitterFraction', () => {
  it('is stable for a node and key, in [0, 1), and differs between nodes', () => {
    assert.equal(jitterFraction('node-a', 'token:k'), jitterFraction('node-a', 'token:k'));
    const values = Array.from({ length: 2000 }, (_, i) => jitterFraction(`node-${i}`, 'token:k'));
    assert.ok(values.every((v) => v >= 0 && v < 1));
    assert.ok(new Set(values).size > 1990, 'nodes get different fractions');
    // Spread evenly: each tenth of [0, 1) gets 10% of the nodes, give or take.
    for (let d = 0; d < 10; d++) {
      const share = values.filter((v) => v >= d / 10 && v < (d + 1) / 10).length / values.length;
      assert.ok(share > 0.07 && share < 0.13, `decile ${d}: ${share}`);
    }
    assert.notEqual(jitterFraction('node-a', 'token:k1'), jitterFraction('node-a', 'token:k2'), 'and between registries of a node');
  });
});

describe('afterSessionRenewal', () => {
  it('lies between the renewal (30 minutes before the session ends) and the kubelet refresh point', () => {
    const e = newTokenEntry('u', 'p', T0, T0 + 2 * H, 15 * MIN);
    assert.equal(afterSessionRenewal(e, 0), e.expiresAt - SESSION_RENEWAL_LEAD_MS);
    const late = afterSessionRenewal(e, 0.999);
    assert.ok(late > e.expiresAt - SESSION_RENEWAL_LEAD_MS && late < e.refreshAt);
  });

  it('a threshold beyond the renewal lead: at the refresh point at the latest', () => {
    const e = newTokenEntry('u', 'p', T0, T0 + 2 * H, 45 * MIN);
    for (const jitter of [0, 0.5, 0.999]) assert.ok(afterSessionRenewal(e, jitter) <= e.refreshAt);
  });
});

describe('retryDelayMs', () => {
  it('full jitter under a doubling ceiling, capped, never under a second', () => {
    assert.equal(retryDelayMs(1, policy, () => 0), 1000);
    assert.equal(retryDelayMs(1, policy, () => 0.5), 30_000);
    assert.equal(retryDelayMs(2, policy, () => 0.5), 60_000);
    assert.equal(retryDelayMs(10, policy, () => 0.999999), 10 * MIN - 1);
    assert.equal(retryDelayMs(50, policy, () => 0.5), 5 * MIN, 'no overflow after many failures');
  });
});
