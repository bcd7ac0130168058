import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tryLock } from '../../../src/cache/lock.ts';
import { LOCK_STALE_MS as STALE_MS } from '../../../src/cache/refresh-watch.ts';
import { sleep } from '../../../src/resilience/retry.ts';
import { killAndWait, runFixture } from './fixtures/spawn.ts';

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'acr-lock-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A lock path in its own locks/ directory (store.ts opens and checks that directory first). */
const lockPath = (): string => {
  const locks = join(root, `locks${n++}`);
  mkdirSync(locks, { mode: 0o700 });
  return join(locks, 'token_3ak');
};
const noWarnings = (reason: string): void => assert.fail(`unexpected compromise: ${reason}`);

describe('tryLock in one process', () => {
  it('creates the lock directory, refuses a second taker, and can be retaken after release', async () => {
    const path = lockPath();
    const release = await tryLock(path, noWarnings);
    assert.ok(release, 'first taker gets the lock');
    assert.ok(statSync(`${path}.lock`).isDirectory());
    assert.equal(await tryLock(path, noWarnings), undefined, 'second taker is refused while held');
    await release();
    assert.equal(existsSync(`${path}.lock`), false);
    const again = await tryLock(path, noWarnings);
    assert.ok(again, 'free again after release');
    await again();
  });

  it('release is idempotent and does not throw', async () => {
    const release = await tryLock(lockPath(), noWarnings);
    assert.ok(release);
    await release();
    await release();
  });

  it('different keys do not block each other', async () => {
    const dir = join(root, `locks${n++}`);
    mkdirSync(dir, { mode: 0o700 });
    const a = await tryLock(join(dir, 'a'), noWarnings);
    const b = await tryLock(join(dir, 'b'), noWarnings);
    assert.ok(a && b);
    await a();
    await b();
  });

  it('an error other than "locked" is thrown, not reported as busy (parent path is a file)', async () => {
    const file = join(root, `file${n++}`);
    writeFileSync(file, '');
    await assert.rejects(tryLock(join(file, 'k'), noWarnings), (error: NodeJS.ErrnoException) => error.code !== 'ELOCKED');
  });
});

describe('tryLock across processes', () => {
  it('a lock held by another live process is refused; after its release it can be taken', { timeout: 30_000 }, async () => {
    const path = lockPath();
    const holder = runFixture('lock-holder.ts', [path]);
    try {
      await holder.waitForLine(/^locked$/);
      assert.equal(await tryLock(path, noWarnings), undefined);
      // A live holder keeps the lock fresh: still refused after longer than the stale time.
      await sleep(STALE_MS + 1500);
      assert.equal(await tryLock(path, noWarnings), undefined, 'a live holder must not be taken over');
      holder.child.stdin?.write('release\n');
      await holder.waitForLine(/^released$/);
      const release = await tryLock(path, noWarnings);
      assert.ok(release);
      // And now the other process is refused.
      const second = runFixture('lock-holder.ts', [path]);
      await second.waitForLine(/^busy$/);
      await second.finished;
      await release();
    } finally {
      await killAndWait(holder);
    }
  });

  it('a lock whose holder was SIGKILLed is taken over after the stale timeout', { timeout: 30_000 }, async () => {
    const path = lockPath();
    const holder = runFixture('lock-holder.ts', [path]);
    await holder.waitForLine(/^locked$/);
    const killed = await killAndWait(holder, 'SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(existsSync(`${path}.lock`), 'a killed holder leaves its lock behind');
    // Right after the kill the lock is still fresh.
    assert.equal(await tryLock(path, noWarnings), undefined);
    const killedAt = Date.now();
    let release;
    while (!release && Date.now() - killedAt < STALE_MS + 5000) {
      release = await tryLock(path, noWarnings);
      if (!release) await sleep(200);
    }
    assert.ok(release, `not taken over within ${STALE_MS + 5000} ms of the kill`);
    await release();
  });
});
