// The one refresh lock: the `<path>.claim` directory (dirRefreshLock), its stale takeover, and
// awaitOrClaimRefresh, in one process and across processes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_HOLD_MS } from '../../../src/cache/dir-lock.ts';
import { LOCK_STALE_MS, awaitOrClaimRefresh, dirRefreshLock, type RefreshLock } from '../../../src/cache/refresh-lock.ts';
import { systemClock } from '../../../src/resilience/clock.ts';
import { sleep } from '../../../src/resilience/retry.ts';
import { killAndWait, runFixture } from './fixtures/spawn.ts';

let root: string;
let n = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'acr-refresh-lock-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A lock path in its own locks/ directory (store.ts opens and checks that directory first). */
function lockPath(): string {
  const locks = join(root, `locks${n++}`);
  mkdirSync(locks, { mode: 0o700 });
  return join(locks, 'v1_3atoken_3ak');
}

function take(lock: RefreshLock): () => void {
  const release = lock.tryTake();
  assert.equal(typeof release, 'function', `expected to take the lock, got ${JSON.stringify(release)}`);
  return release as () => void;
}

const options = (maxWaitMs: number) => ({ clock: systemClock, maxWaitMs, pollMs: 20 });

describe('dirRefreshLock in one process', () => {
  it('is the directory <path>.claim: taken once, refused while held, free again after release', () => {
    const path = lockPath();
    const lock = dirRefreshLock(path);
    const release = take(lock);
    assert.ok(statSync(`${path}.claim`).isDirectory());
    assert.equal(lock.tryTake(), 'held');
    release();
    assert.equal(existsSync(`${path}.claim`), false);
    take(lock)();
  });

  it('release is idempotent', () => {
    const release = take(dirRefreshLock(lockPath()));
    release();
    release();
  });

  it('different keys do not block each other', () => {
    const dir = join(root, `locks${n++}`);
    mkdirSync(dir, { mode: 0o700 });
    const a = take(dirRefreshLock(join(dir, 'a')));
    const b = take(dirRefreshLock(join(dir, 'b')));
    a();
    b();
  });

  it('a lock that cannot be made says why instead of looking busy (parent is a file)', () => {
    const file = join(root, `file${n++}`);
    writeFileSync(file, '');
    assert.deepEqual(dirRefreshLock(join(file, 'k')).tryTake(), { unavailable: 'ENOTDIR' });
  });

  it('names its holder; a stale claim naming a live process is kept until MAX_HOLD_MS, then taken over', () => {
    const path = lockPath();
    const release = take(dirRefreshLock(path));
    assert.equal(readFileSync(`${path}.claim/pid`, 'utf8'), String(process.pid));
    const age = (ms: number) => {
      const then = new Date(Date.now() - ms);
      utimesSync(`${path}.claim`, then, then);
    };
    age(LOCK_STALE_MS + 2000);
    assert.equal(dirRefreshLock(path).tryTake(), 'held', 'stale by its mtime, but its holder (this process) is alive');
    age(MAX_HOLD_MS + 2000);
    take(dirRefreshLock(path))();
    release();
  });

  it('a stale claim naming a process that is gone is taken over', () => {
    const path = lockPath();
    mkdirSync(`${path}.claim`);
    writeFileSync(`${path}.claim/pid`, '2147483646');
    const old = new Date(Date.now() - LOCK_STALE_MS - 2000);
    utimesSync(`${path}.claim`, old, old);
    take(dirRefreshLock(path))();
  });

  it('a stale claim (dead owner) is taken over', () => {
    const path = lockPath();
    mkdirSync(`${path}.claim`);
    const old = new Date(Date.now() - LOCK_STALE_MS - 2000);
    utimesSync(`${path}.claim`, old, old);
    take(dirRefreshLock(path))();
  });
});

describe('awaitOrClaimRefresh', () => {
  it('nobody refreshing and the value already there: shared, nothing left behind', async () => {
    const path = lockPath();
    const turn = await awaitOrClaimRefresh(dirRefreshLock(path), async () => 'v', options(5000));
    assert.deepEqual(turn, { kind: 'shared', value: 'v' });
    assert.equal(existsSync(`${path}.claim`), false);
  });

  it('nobody refreshing and no value: claimed; release removes the claim', async () => {
    const path = lockPath();
    const turn = await awaitOrClaimRefresh(dirRefreshLock(path), async () => undefined, options(5000));
    assert.equal(turn.kind, 'claimed');
    assert.equal(existsSync(`${path}.claim`), true);
    if (turn.kind === 'claimed') turn.release();
    assert.equal(existsSync(`${path}.claim`), false);
  });

  it('two at once: the first claims, the second waits and gets the first one result', async () => {
    const lock = dirRefreshLock(lockPath());
    let value: string | undefined;
    const read = async () => value;
    const first = await awaitOrClaimRefresh(lock, read, options(5000));
    assert.equal(first.kind, 'claimed');
    const second = awaitOrClaimRefresh(lock, read, options(5000));
    await sleep(100);
    value = 'refreshed-by-first';
    if (first.kind === 'claimed') first.release();
    assert.deepEqual(await second, { kind: 'shared', value: 'refreshed-by-first' });
  });

  it('a live claim by someone else: waits until their result appears', async () => {
    const path = lockPath();
    mkdirSync(`${path}.claim`);
    let value: string | undefined;
    setTimeout(() => (value = 'fresh'), 300);
    const started = Date.now();
    assert.deepEqual(await awaitOrClaimRefresh(dirRefreshLock(path), async () => value, options(5000)), { kind: 'shared', value: 'fresh' });
    assert.ok(Date.now() - started >= 250, 'returned before the other process wrote');
  });

  it('a value written by a holder that let go just before we took the lock is shared, and the lock given back', async () => {
    const path = lockPath();
    let reads = 0;
    // First read (inside the take) already sees the other holder's value.
    const turn = await awaitOrClaimRefresh(dirRefreshLock(path), async () => (++reads >= 1 ? 'just-written' : undefined), options(5000));
    assert.deepEqual(turn, { kind: 'shared', value: 'just-written' });
    assert.equal(existsSync(`${path}.claim`), false);
  });

  it('the other claimant gives up without a result: we claim after it is gone', async () => {
    const path = lockPath();
    mkdirSync(`${path}.claim`);
    setTimeout(() => rmSync(`${path}.claim`, { recursive: true }), 150);
    const turn = await awaitOrClaimRefresh(dirRefreshLock(path), async () => undefined, options(5000));
    assert.equal(turn.kind, 'claimed');
    if (turn.kind === 'claimed') turn.release();
  });

  it('a live claim that never finishes: timeout at the wait budget', async () => {
    const path = lockPath();
    mkdirSync(`${path}.claim`);
    const started = Date.now();
    assert.deepEqual(await awaitOrClaimRefresh(dirRefreshLock(path), async () => undefined, options(300)), { kind: 'timeout' });
    assert.ok(Date.now() - started < 3000);
  });

  it('a lock that cannot be made: unavailable at once, no waiting', async () => {
    const file = join(root, `file${n++}`);
    writeFileSync(file, '');
    assert.deepEqual(await awaitOrClaimRefresh(dirRefreshLock(join(file, 'k')), async () => undefined, options(60_000)), { kind: 'unavailable', reason: 'ENOTDIR' });
  });

  it('waits on the given clock: a virtual clock that never advances past the budget keeps it waiting', async () => {
    const path = lockPath();
    mkdirSync(`${path}.claim`);
    let now = 0;
    let sleeps = 0;
    const clock = { now: () => now, sleep: async (ms: number) => void ((now += ms), sleeps++) };
    assert.deepEqual(await awaitOrClaimRefresh(dirRefreshLock(path), async () => undefined, { clock, maxWaitMs: 1000, pollMs: 100, random: () => 0.5 }), { kind: 'timeout' });
    assert.equal(sleeps, 10, 'ten 100 ms polls of virtual time, no wall-clock wait');
  });
});

describe('dirRefreshLock across processes', () => {
  it('a lock held by another live process is refused, even past the stale time; after its release it can be taken', { timeout: 30_000 }, async () => {
    const path = lockPath();
    const lock = dirRefreshLock(path);
    const holder = runFixture('lock-holder.ts', [path]);
    try {
      await holder.waitForLine(/^locked$/);
      assert.equal(lock.tryTake(), 'held');
      // A live holder keeps the lock fresh.
      await sleep(LOCK_STALE_MS + 1500);
      assert.equal(lock.tryTake(), 'held', 'a live holder must not be taken over');
      holder.child.stdin?.write('release\n');
      await holder.waitForLine(/^released$/);
      const release = take(lock);
      const second = runFixture('lock-holder.ts', [path]);
      await second.waitForLine(/^busy$/);
      await second.finished;
      release();
    } finally {
      await killAndWait(holder);
    }
  });

  it('a live holder whose event loop is blocked past the stale time (starved, compiling) is not taken over', { timeout: 30_000 }, async () => {
    const path = lockPath();
    const lock = dirRefreshLock(path);
    const holder = runFixture('lock-holder.ts', [path]);
    try {
      await holder.waitForLine(/^locked$/);
      holder.child.stdin?.write(`block ${LOCK_STALE_MS + 4000}\n`);
      await sleep(LOCK_STALE_MS + 2000);
      assert.ok(Date.now() - statSync(`${path}.claim`).mtimeMs > LOCK_STALE_MS, 'its mtime went stale');
      assert.equal(lock.tryTake(), 'held', 'a live holder keeps its lock, touched or not');
      await holder.waitForLine(/^unblocked$/);
    } finally {
      await killAndWait(holder);
    }
  });

  it('a lock whose holder was SIGKILLed is taken over after the stale time', { timeout: 30_000 }, async () => {
    const path = lockPath();
    const lock = dirRefreshLock(path);
    const holder = runFixture('lock-holder.ts', [path]);
    await holder.waitForLine(/^locked$/);
    assert.equal((await killAndWait(holder, 'SIGKILL')).signal, 'SIGKILL');
    assert.ok(existsSync(`${path}.claim`), 'a killed holder leaves its lock behind');
    assert.equal(lock.tryTake(), 'held', 'still fresh right after the kill');
    const killedAt = Date.now();
    let release: ReturnType<RefreshLock['tryTake']> = 'held';
    while (release === 'held' && Date.now() - killedAt < LOCK_STALE_MS + 5000) {
      release = lock.tryTake();
      if (release === 'held') await sleep(200);
    }
    assert.equal(typeof release, 'function', `not taken over within ${LOCK_STALE_MS + 5000} ms of the kill`);
    if (typeof release === 'function') release();
  });
});
