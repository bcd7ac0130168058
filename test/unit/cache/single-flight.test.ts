import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tryLock } from '../../../src/cache/lock.ts';
import { LOCK_STALE_MS as STALE_MS } from '../../../src/cache/refresh-watch.ts';
import { singleFlight, type FlightOutcome } from '../../../src/cache/single-flight.ts';
import { Deadline } from '../../../src/resilience/deadline.ts';
import { killAndWait, lastJson, runFixture } from './fixtures/spawn.ts';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'acr-flight-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function scenario() {
  const dir = join(root, `s${n++}`);
  mkdirSync(join(dir, 'locks'), { recursive: true });
  return { lock: join(dir, 'locks', 'token_3ak'), value: join(dir, 'value'), counter: join(dir, 'counter') };
}
const counterLines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

interface WorkerResult {
  pid: number;
  value: string;
  outcome: FlightOutcome;
  warnings: string[];
}

describe('singleFlight in one process', () => {
  const never = async (): Promise<string> => assert.fail('refresh must not run');

  it('refreshes when nothing is cached and releases the lock', async () => {
    const s = scenario();
    const r = await singleFlight({ lockPath: s.lock, readFresh: async () => undefined, refresh: async () => 'new', deadline: new Deadline(30_000), maxWaitMs: 5000, onWarning: assert.fail });
    assert.deepEqual(r, { value: 'new', outcome: 'refreshed' });
    assert.equal(existsSync(`${s.lock}.lock`), false);
  });

  it('serves what another process stored while it took the lock (no refresh)', async () => {
    const s = scenario();
    const r = await singleFlight({ lockPath: s.lock, readFresh: async () => 'theirs', refresh: never, deadline: new Deadline(30_000), maxWaitMs: 5000, onWarning: assert.fail });
    assert.deepEqual(r, { value: 'theirs', outcome: 'shared' });
  });

  it('without a lock path, refreshes straight away', async () => {
    const r = await singleFlight({ lockPath: undefined, readFresh: async () => 'cached', refresh: async () => 'mine', deadline: new Deadline(30_000), maxWaitMs: 5000, onWarning: assert.fail });
    assert.deepEqual(r, { value: 'mine', outcome: 'unlocked' });
  });

  it('releases the lock when the refresh throws', async () => {
    const s = scenario();
    const boom = new Error('cloud down');
    await assert.rejects(
      singleFlight({ lockPath: s.lock, readFresh: async () => undefined, refresh: async () => Promise.reject(boom), deadline: new Deadline(30_000), maxWaitMs: 5000, onWarning: assert.fail }),
      (e) => e === boom,
    );
    const release = await tryLock(s.lock, assert.fail);
    assert.ok(release, 'lock left behind after a failed refresh');
    await release();
  });

  it('waits for a held lock and shares the value that appears', async () => {
    const s = scenario();
    const release = await tryLock(s.lock, assert.fail);
    assert.ok(release);
    let reads = 0;
    const r = await singleFlight({
      lockPath: s.lock,
      readFresh: async () => (++reads >= 3 ? 'published' : undefined),
      refresh: never,
      deadline: new Deadline(30_000),
      maxWaitMs: 10_000,
      onWarning: assert.fail,
      pollMs: 10,
    });
    await release();
    assert.deepEqual(r, { value: 'published', outcome: 'shared' });
    assert.equal(reads, 3);
  });

  it('gives up waiting after maxWaitMs and refreshes unlocked, with a warning', async () => {
    const s = scenario();
    const release = await tryLock(s.lock, assert.fail);
    assert.ok(release);
    const warnings: string[] = [];
    const r = await singleFlight({ lockPath: s.lock, readFresh: async () => undefined, refresh: async () => 'mine', deadline: new Deadline(30_000), maxWaitMs: 100, onWarning: (m) => warnings.push(m), pollMs: 10 });
    await release();
    assert.deepEqual(r, { value: 'mine', outcome: 'unlocked' });
    assert.deepEqual(warnings, ['another invocation has held the refresh lock too long; refreshing without it']);
  });

  it('does not wait at all when the deadline leaves no room for its own refresh', async () => {
    const s = scenario();
    const release = await tryLock(s.lock, assert.fail);
    assert.ok(release);
    let reads = 0;
    const warnings: string[] = [];
    const r = await singleFlight({
      lockPath: s.lock,
      readFresh: async () => {
        reads++;
        return undefined;
      },
      refresh: async () => 'mine',
      deadline: new Deadline(5000), // less than the 8 s kept for our own refresh
      maxWaitMs: 60_000,
      onWarning: (m) => warnings.push(m),
      pollMs: 10,
    });
    await release();
    assert.deepEqual(r, { value: 'mine', outcome: 'unlocked' });
    assert.equal(reads, 0);
    assert.equal(warnings.length, 1);
  });

  it('an unusable lock location refreshes without the lock, with a warning', async () => {
    const file = join(root, `file${n++}`);
    writeFileSync(file, '');
    const warnings: string[] = [];
    const r = await singleFlight({ lockPath: join(file, 'k'), readFresh: async () => undefined, refresh: async () => 'mine', deadline: new Deadline(30_000), maxWaitMs: 5000, onWarning: (m) => warnings.push(m) });
    assert.deepEqual(r, { value: 'mine', outcome: 'unlocked' });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /^cannot take the refresh lock \(E[A-Z]+\); refreshing without it$/);
  });
});

describe('singleFlight across processes', () => {
  const N = 6;

  it(`${N} processes, one key: exactly one refresh, everyone gets the same value`, { timeout: 60_000 }, async () => {
    const s = scenario();
    const startAt = String(Date.now() + 1500);
    const runs = Array.from({ length: N }, () => runFixture('flight-worker.ts', [s.lock, s.value, s.counter, '300', startAt, '20000']));
    const done = await Promise.all(runs.map((r) => r.finished));
    const results = done.map((f) => {
      assert.equal(f.code, 0, f.stderr);
      return lastJson<WorkerResult>(f);
    });
    const refreshers = counterLines(s.counter);
    assert.equal(refreshers.length, 1, `refreshes by ${refreshers.join(', ')}`);
    const values = new Set(results.map((r) => r.value));
    assert.deepEqual([...values], [`value-from-${refreshers[0]}`]);
    assert.deepEqual(
      results.map((r) => r.outcome).sort(),
      ['refreshed', ...Array<FlightOutcome>(N - 1).fill('shared')].sort(),
    );
    assert.equal(results.find((r) => r.outcome === 'refreshed')?.pid, Number(refreshers[0]));
    for (const r of results) assert.deepEqual(r.warnings, []);
  });

  it(`with lockPath undefined each of ${N} processes refreshes`, { timeout: 60_000 }, async () => {
    const s = scenario();
    const startAt = String(Date.now() + 1500);
    const runs = Array.from({ length: N }, () => runFixture('flight-worker.ts', ['-', s.value, s.counter, '300', startAt, '20000']));
    const results = (await Promise.all(runs.map((r) => r.finished))).map((f) => lastJson<WorkerResult>(f));
    assert.equal(counterLines(s.counter).length, N);
    assert.deepEqual(new Set(results.map((r) => r.outcome)), new Set(['unlocked']));
    assert.equal(new Set(results.map((r) => r.value)).size, N);
  });

  it('a holder SIGKILLed mid-refresh blocks the others only until its lock goes stale', { timeout: 60_000 }, async () => {
    const s = scenario();
    const holder = runFixture('flight-worker.ts', [s.lock, s.value, s.counter, '300', '0', '20000', 'hang']);
    await holder.waitForLine(/^refreshing$/);
    const killed = await killAndWait(holder, 'SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal(counterLines(s.counter).length, 1);
    // If the dead holder's lock were never taken over, they would wait out maxWaitMs, warn,
    // and refresh 'unlocked'. A few seconds past the stale time is enough for the takeover.
    const maxWait = String(STALE_MS + 6000);
    const runs = Array.from({ length: 4 }, () => runFixture('flight-worker.ts', [s.lock, s.value, s.counter, '300', '0', maxWait]));
    const results = (await Promise.all(runs.map((r) => r.finished))).map((f) => {
      assert.equal(f.code, 0, f.stderr);
      return lastJson<WorkerResult>(f);
    });
    for (const r of results) assert.deepEqual(r.warnings, [], `pid ${r.pid} warned`);
    assert.deepEqual(results.map((r) => r.outcome).sort(), ['refreshed', 'shared', 'shared', 'shared']);
    const lines = counterLines(s.counter);
    assert.equal(lines.length, 2, 'the dead holder and exactly one survivor refreshed');
    assert.deepEqual(new Set(results.map((r) => r.value)), new Set([`value-from-${lines[1]}`]));
  });
});
