// answerFromCache, the kubelet path's use of the cache and the refresh lock: hits, waits for
// another process's refresh, refreshes of our own, and the ways out when the lock cannot help.
// In one process with a stub slot, and across processes with the real lock
// (fixtures/flight-worker.ts).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dirRefreshLock, type RefreshLock } from '../../../src/cache/refresh-lock.ts';
import { answerFromCache, type Answer, type Refresher } from '../../../src/provider/answer.ts';
import { newTokenEntry, type CachedAnswer } from '../../../src/provider/token-entry.ts';
import { Deadline } from '../../../src/resilience/deadline.ts';
import { killAndWait, lastJson, runFixture } from '../cache/fixtures/spawn.ts';

const H = 3600_000;
let root: string;
let n = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'acr-answer-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

function scenario() {
  const dir = join(root, `s${n++}`);
  mkdirSync(join(dir, 'locks'), { recursive: true, mode: 0o700 });
  return { lock: join(dir, 'locks', 'v1_3atoken_3ak'), value: join(dir, 'value'), counter: join(dir, 'counter') };
}
const counterLines = (path: string): string[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

const fresh = (user = 'cached'): CachedAnswer => newTokenEntry(user, 'pw', Date.now(), Date.now() + H, 15 * 60_000);
/** Past its refresh point, still valid for 10 minutes. */
const due = (): CachedAnswer => {
  const now = Date.now();
  return { username: 'old', password: 'pw', obtainedAt: now - 50 * 60_000, refreshAt: now - 5 * 60_000, expiresAt: now + 10 * 60_000 };
};
const refreshedTo = (user: string, calls: string[] = []): Refresher => async (previous, outcome) => {
  calls.push(`${outcome}:${previous?.username ?? '-'}`);
  return { entry: fresh(user), cacheDurationMs: 1000, outcome };
};
const never: Refresher = async () => assert.fail('refresh must not run');
const noWarnings = (m: string): void => assert.fail(`unexpected warning: ${m}`);

describe('answerFromCache in one process', () => {
  it('a fresh entry is a hit: no lock opened, no refresh', async () => {
    let lockOpened = false;
    const answer = await answerFromCache({ read: async () => fresh(), lock: () => ((lockOpened = true), undefined) }, new Deadline(30_000), never, noWarnings);
    assert.equal(answer.outcome, 'hit');
    assert.ok(answer.cacheDurationMs > 44 * 60_000 && answer.cacheDurationMs <= 45 * 60_000);
    assert.equal(lockOpened, false, 'the hit path never opens the lock');
  });

  it('a due entry: refreshed under the lock, which is released after; the refresher gets the previous token', async () => {
    const s = scenario();
    const calls: string[] = [];
    const answer = await answerFromCache({ read: async () => due(), lock: () => dirRefreshLock(s.lock) }, new Deadline(30_000), async (previous, outcome) => {
      assert.ok(existsSync(`${s.lock}.claim`), 'refreshing while holding the lock');
      return refreshedTo('new', calls)(previous, outcome);
    }, noWarnings);
    assert.equal(answer.outcome, 'refreshed');
    assert.deepEqual(calls, ['refreshed:old']);
    assert.equal(existsSync(`${s.lock}.claim`), false);
  });

  it('the lock is released when the refresh throws', async () => {
    const s = scenario();
    const boom = new Error('cloud down');
    await assert.rejects(answerFromCache({ read: async () => undefined, lock: () => dirRefreshLock(s.lock) }, new Deadline(30_000), async () => Promise.reject(boom), noWarnings), (e) => e === boom);
    assert.equal(existsSync(`${s.lock}.claim`), false);
  });

  it('no usable lock (no cache): refreshes straight away, "unlocked"', async () => {
    const calls: string[] = [];
    const answer = await answerFromCache({ read: async () => undefined, lock: () => undefined }, new Deadline(30_000), refreshedTo('mine', calls), noWarnings);
    assert.equal(answer.outcome, 'unlocked');
    assert.deepEqual(calls, ['unlocked:-']);
  });

  it('a lock that cannot be made: refreshes at once without it, with one warning', async () => {
    const lock: RefreshLock = { tryTake: () => ({ unavailable: 'EACCES' }) };
    const warnings: string[] = [];
    const answer = await answerFromCache({ read: async () => undefined, lock: () => lock }, new Deadline(30_000), refreshedTo('mine'), (m) => warnings.push(m));
    assert.equal(answer.outcome, 'unlocked');
    assert.deepEqual(warnings, ['cannot take the refresh lock (EACCES); refreshing without it']);
  });

  it('waits for a held lock and shares the value that appears', async () => {
    const s = scenario();
    const release = dirRefreshLock(s.lock).tryTake();
    assert.equal(typeof release, 'function');
    let reads = 0;
    const answer = await answerFromCache({ read: async () => (++reads >= 4 ? fresh('theirs') : undefined), lock: () => dirRefreshLock(s.lock) }, new Deadline(30_000), never, noWarnings);
    if (typeof release === 'function') release();
    assert.equal(answer.outcome, 'shared');
    assert.equal((answer.entry as { username: string }).username, 'theirs');
  });

  it('does not wait when the deadline leaves no room for its own refresh: "unlocked" with a warning', async () => {
    const s = scenario();
    const release = dirRefreshLock(s.lock).tryTake();
    const warnings: string[] = [];
    const started = Date.now();
    const answer: Answer = await answerFromCache({ read: async () => undefined, lock: () => dirRefreshLock(s.lock) }, new Deadline(5000), refreshedTo('mine'), (m) => warnings.push(m));
    if (typeof release === 'function') release();
    assert.equal(answer.outcome, 'unlocked');
    assert.deepEqual(warnings, ['another invocation has held the refresh lock too long; refreshing without it']);
    assert.ok(Date.now() - started < 2000, 'less than the 8 s reserve left: no wait at all');
  });
});

interface WorkerResult {
  pid: number;
  outcome: string;
  username: string;
  warnings: string[];
}

describe('answerFromCache across processes', () => {
  const N = 6;

  it(`${N} processes, one key: exactly one refresh, everyone gets its token`, { timeout: 60_000 }, async () => {
    const s = scenario();
    const runs = Array.from({ length: N }, () => runFixture('flight-worker.ts', [s.lock, s.value, s.counter, '1000', 'stdin', '30000']));
    for (const r of runs) await r.waitForLine(/^ready$/, 50_000);
    for (const r of runs) r.child.stdin?.write('go\n');
    const results = (await Promise.all(runs.map((r) => r.finished))).map((f) => {
      assert.equal(f.code, 0, f.stderr);
      return lastJson<WorkerResult>(f);
    });
    const refreshers = counterLines(s.counter);
    assert.equal(refreshers.length, 1, `refreshes by ${refreshers.join(', ')}`);
    assert.deepEqual([...new Set(results.map((r) => r.username))], [`user-from-${refreshers[0]}`]);
    const outcomes = results.map((r) => r.outcome);
    assert.equal(outcomes.filter((o) => o === 'refreshed').length, 1, outcomes.join(', '));
    // The others waited for it ("shared"); one descheduled past the refresh on a loaded machine finds it done ("hit").
    assert.ok(outcomes.every((o) => ['refreshed', 'shared', 'hit'].includes(o)) && outcomes.includes('shared'), outcomes.join(', '));
    assert.equal(results.find((r) => r.outcome === 'refreshed')?.pid, Number(refreshers[0]));
    for (const r of results) assert.deepEqual(r.warnings, []);
  });

  it(`without a lock each of ${N} processes refreshes`, { timeout: 60_000 }, async () => {
    const s = scenario();
    // Everyone reads before the first refresh publishes (3 s after the common start).
    const startAt = String(Date.now() + 2500);
    const runs = Array.from({ length: N }, () => runFixture('flight-worker.ts', ['-', s.value, s.counter, '3000', startAt, '30000']));
    const results = (await Promise.all(runs.map((r) => r.finished))).map((f) => lastJson<WorkerResult>(f));
    assert.equal(counterLines(s.counter).length, N);
    assert.deepEqual(new Set(results.map((r) => r.outcome)), new Set(['unlocked']));
  });

  it('a holder SIGKILLed mid-refresh blocks the others only until its lock goes stale', { timeout: 60_000 }, async () => {
    const s = scenario();
    const holder = runFixture('flight-worker.ts', [s.lock, s.value, s.counter, '300', '0', '30000', 'hang']);
    await holder.waitForLine(/^refreshing$/);
    assert.equal((await killAndWait(holder, 'SIGKILL')).signal, 'SIGKILL');
    assert.equal(counterLines(s.counter).length, 1);
    // Without the takeover they would wait out their 20 s, warn, and refresh "unlocked".
    const runs = Array.from({ length: 4 }, () => runFixture('flight-worker.ts', [s.lock, s.value, s.counter, '300', '0', '30000']));
    const results = (await Promise.all(runs.map((r) => r.finished))).map((f) => {
      assert.equal(f.code, 0, f.stderr);
      return lastJson<WorkerResult>(f);
    });
    for (const r of results) assert.deepEqual(r.warnings, [], `pid ${r.pid} warned`);
    assert.deepEqual(results.map((r) => r.outcome).sort(), ['refreshed', 'shared', 'shared', 'shared']);
    const lines = counterLines(s.counter);
    assert.equal(lines.length, 2, 'the dead holder and exactly one survivor refreshed');
    assert.deepEqual(new Set(results.map((r) => r.username)), new Set([`user-from-${lines[1]}`]));
  });
});
