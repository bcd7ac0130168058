import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProviderError } from '../../../src/errors.ts';
import { Deadline } from '../../../src/resilience/deadline.ts';
import { DEFAULT_RETRY_POLICY, backoffDelayMs, sleep, withRetry, type RetryPolicy } from '../../../src/resilience/retry.ts';

/** A deadline whose remaining time the test controls (no real clock involved). */
class ManualDeadline extends Deadline {
  left: number;
  constructor(left: number) {
    super(left, { startedAt: 0 });
    this.left = left;
  }
  override remainingMs(): number {
    return Math.max(0, this.left);
  }
}

const FAST: RetryPolicy = { maxAttempts: 4, baseDelayMs: 2, maxDelayMs: 8 };
const retryable = (msg = 'blip') => new ProviderError('network', msg, { retryable: true });

function failing(errors: unknown[], value = 'ok') {
  const attempts: number[] = [];
  const op = async (attempt: number) => {
    attempts.push(attempt);
    const e = errors[attempt - 1];
    if (e !== undefined) throw e;
    return value;
  };
  return { op, attempts };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

describe('withRetry', () => {
  it('takes its policy from the deadline when the call gives none (the pre-warmer: one attempt)', async () => {
    const { op, attempts } = failing([retryable(), retryable()]);
    await rejection(withRetry(op, { deadline: new Deadline(10_000, { retryPolicy: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 } }) }));
    assert.deepEqual(attempts, [1]);
  });

  it('sleeps on the deadline\'s clock', async () => {
    let now = 0;
    const slept: number[] = [];
    const clock = { now: () => now, sleep: async (ms: number) => void (slept.push(ms), (now += ms)) };
    const { op } = failing([retryable(), retryable()]);
    assert.equal(await withRetry(op, { deadline: new Deadline(10_000, { clock }), policy: FAST, random: () => 1 }), 'ok');
    assert.deepEqual(slept, [2, 4]);
  });

  it('returns the first success without retrying', async () => {
    const { op, attempts } = failing([]);
    assert.equal(await withRetry(op, { deadline: new Deadline(10_000), policy: FAST }), 'ok');
    assert.deepEqual(attempts, [1]);
  });

  it('retries retryable ProviderErrors until success, reporting each retry', async () => {
    const { op, attempts } = failing([retryable('a'), retryable('b')]);
    const retries: Array<[string, number, number]> = [];
    const result = await withRetry(op, {
      deadline: new Deadline(10_000),
      policy: FAST,
      random: () => 0.5,
      onRetry: (e, attempt, delay) => retries.push([(e as Error).message, attempt, delay]),
    });
    assert.equal(result, 'ok');
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.deepEqual(retries, [
      ['a', 1, 1],
      ['b', 2, 2],
    ]);
  });

  const notRetried: Array<[string, unknown]> = [
    ['a non-retryable ProviderError', new ProviderError('permission', 'denied')],
    ['a plain Error', new Error('boom')],
    ['a thrown string', 'boom'],
    ['an object that looks retryable but is no ProviderError', { retryable: true, message: 'fake' }],
  ];
  for (const [name, error] of notRetried) {
    it(`does not retry ${name}: the same value is thrown after one attempt`, async () => {
      const { op, attempts } = failing([error, error]);
      const thrown = await rejection(withRetry(op, { deadline: new Deadline(10_000), policy: FAST }));
      assert.equal(thrown, error);
      assert.deepEqual(attempts, [1]);
    });
  }

  it('stops at maxAttempts and throws the last error unchanged', async () => {
    const errors = [retryable('1'), retryable('2'), retryable('3'), retryable('4'), retryable('5')];
    const { op, attempts } = failing(errors);
    const thrown = await rejection(withRetry(op, { deadline: new Deadline(10_000), policy: FAST, random: () => 0 }));
    assert.equal(thrown, errors[3]);
    assert.deepEqual(attempts, [1, 2, 3, 4]);
  });

  it('maxAttempts 1 means no retry', async () => {
    const { op, attempts } = failing([retryable()]);
    await rejection(withRetry(op, { deadline: new Deadline(10_000), policy: { ...FAST, maxAttempts: 1 } }));
    assert.deepEqual(attempts, [1]);
  });

  it('honours a custom isRetryable', async () => {
    const plain = new Error('transient');
    const { op, attempts } = failing([plain, plain]);
    const result = await withRetry(op, { deadline: new Deadline(10_000), policy: FAST, isRetryable: (e) => e === plain });
    assert.equal(result, 'ok');
    assert.deepEqual(attempts, [1, 2, 3]);
  });

  it('gives up instead of sleeping past the deadline (delay + 250 ms must fit)', async () => {
    const policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 100 };
    // 349 ms left: a 100 ms sleep plus a useful 250 ms attempt does not fit.
    const deadline = new ManualDeadline(349);
    const original = retryable('no route');
    const { op, attempts } = failing([original, original]);
    let slept = 0;
    const thrown = await rejection(withRetry(op, { deadline, policy, random: () => 1, onRetry: () => slept++ }));
    assert.deepEqual(attempts, [1]);
    assert.equal(slept, 0);
    assert.ok(thrown instanceof ProviderError);
    assert.equal(thrown.errorClass, 'network');
    assert.equal(thrown.message, 'no route (gave up after 1 attempt: deadline reached)');
    assert.equal(thrown.cause, original);
  });

  it('retries while time allows, then gives up naming the attempts', async () => {
    const policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 1 };
    const deadline = new ManualDeadline(1000);
    let attempts = 0;
    const op = async () => {
      attempts++;
      deadline.left -= 300; // each attempt "takes" 300 ms of the budget
      throw retryable('slow');
    };
    const delays: number[] = [];
    const thrown = await rejection(
      withRetry(op, {
        deadline,
        policy,
        random: () => 1,
        onRetry: (_e, _a, delay) => {
          // Whenever it decides to sleep, the sleep and a useful attempt fit in what is left.
          assert.ok(deadline.remainingMs() >= delay + 250);
          delays.push(delay);
        },
      }),
    );
    // 1000 -> 700 -> 400 -> 100: after the third attempt 100 < 1 + 250.
    assert.equal(attempts, 3);
    assert.deepEqual(delays, [1, 1]);
    assert.equal((thrown as Error).message, 'slow (gave up after 3 attempts: deadline reached)');
  });

  it('a non-ProviderError that is retryable by policy is rethrown as is at the deadline', async () => {
    const plain = new Error('x');
    const thrown = await rejection(
      withRetry(
        async () => {
          throw plain;
        },
        { deadline: new ManualDeadline(0), policy: FAST, isRetryable: () => true, random: () => 1 },
      ),
    );
    assert.equal(thrown, plain);
  });

  it('with a real clock, never starts a sleep that would overrun the deadline', async () => {
    const deadline = new Deadline(600);
    const policy: RetryPolicy = { maxAttempts: 50, baseDelayMs: 40, maxDelayMs: 40 };
    let attempts = 0;
    const thrown = await rejection(
      withRetry(
        async () => {
          attempts++;
          throw retryable('down');
        },
        {
          deadline,
          policy,
          random: () => 1,
          onRetry: (_e, _a, delay) => assert.ok(deadline.remainingMs() >= delay + 250, 'slept into the reserve'),
        },
      ),
    );
    assert.ok(attempts >= 1 && attempts < 50, String(attempts));
    assert.match((thrown as Error).message, /^down \(gave up after \d+ attempts?: deadline reached\)$/);
  });
});

describe('backoffDelayMs', () => {
  const policy: RetryPolicy = { maxAttempts: 10, baseDelayMs: 200, maxDelayMs: 4000 };
  const ceilings: Array<[number, number]> = [
    [1, 200],
    [2, 400],
    [3, 800],
    [4, 1600],
    [5, 3200],
    [6, 4000],
    [20, 4000],
  ];
  for (const [attempt, ceiling] of ceilings) {
    it(`attempt ${attempt}: full jitter in [0, ${ceiling}]`, () => {
      assert.equal(backoffDelayMs(attempt, policy, () => 0), 0);
      assert.equal(backoffDelayMs(attempt, policy, () => 1), ceiling);
      assert.equal(backoffDelayMs(attempt, policy, () => 0.5), ceiling / 2);
      assert.equal(backoffDelayMs(attempt, policy, () => 0.25), Math.round(ceiling / 4));
    });
  }

  it('stays within bounds and is an integer with the real random source', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      for (let i = 0; i < 50; i++) {
        const d = backoffDelayMs(attempt, DEFAULT_RETRY_POLICY);
        assert.ok(Number.isInteger(d));
        assert.ok(d >= 0 && d <= Math.min(DEFAULT_RETRY_POLICY.maxDelayMs, DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** (attempt - 1)));
      }
    }
  });

  it('the default policy is bounded (5 attempts, 200 ms base, 4 s cap)', () => {
    assert.deepEqual(DEFAULT_RETRY_POLICY, { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 4000 });
  });
});

describe('sleep', () => {
  it('resolves (to undefined)', async () => {
    assert.equal(await sleep(1), undefined);
  });
});
