import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Deadline } from '../../../src/resilience/deadline.ts';

const T0 = 1_700_000_000_000;

describe('Deadline', () => {
  it('expires budget ms after construction', () => {
    const d = new Deadline(5000, { startedAt: T0 });
    assert.equal(d.expiresAt, T0 + 5000);
  });

  const rows: Array<[number, number, boolean]> = [
    // [elapsed, remaining, expired]
    [0, 5000, false],
    [4999, 1, false],
    [5000, 0, true],
    [9000, 0, true],
  ];
  for (const [elapsed, remaining, expired] of rows) {
    it(`after ${elapsed} ms: remaining ${remaining}, expired ${expired}`, () => {
      const d = new Deadline(5000, { startedAt: T0 });
      assert.equal(d.remainingMs(T0 + elapsed), remaining);
      assert.equal(d.expired(T0 + elapsed), expired);
    });
  }

  it('uses the real clock by default', () => {
    const d = new Deadline(60_000);
    const left = d.remainingMs();
    assert.ok(left > 0 && left <= 60_000);
    assert.equal(d.expired(), false);
    assert.equal(new Deadline(0).expired(), true);
    assert.equal(new Deadline(-10).remainingMs(), 0);
  });

  it('attemptTimeoutMs is the cap while time allows, then the time left, never below 1', () => {
    assert.equal(new Deadline(60_000).attemptTimeoutMs(3000), 3000);
    const short = new Deadline(2000).attemptTimeoutMs(3000);
    assert.ok(short > 0 && short <= 2000, String(short));
    assert.equal(new Deadline(0).attemptTimeoutMs(3000), 1);
    assert.equal(new Deadline(-1000).attemptTimeoutMs(3000), 1);
  });
});
