import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOCK_STALE_MS, awaitOrClaimRefresh } from '../../../src/cache/refresh-watch.ts';

describe('awaitOrClaimRefresh', () => {
  let dir: string;
  let n = 0;
  const lockPath = () => join(dir, 'locks', `key-${++n}`);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'refresh-watch-'));
    // store.ts opens and checks locks/ before handing out marker paths inside it.
    mkdirSync(join(dir, 'locks'), { mode: 0o700 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('nobody refreshing and the value already there: shared, nothing claimed', async () => {
    const path = lockPath();
    const turn = await awaitOrClaimRefresh(path, async () => 'v', 5000);
    assert.deepEqual(turn, { kind: 'shared', value: 'v' });
    assert.equal(existsSync(`${path}.claim`), false);
  });

  it('nobody refreshing and no value: claimed; release removes the claim', async () => {
    const path = lockPath();
    const turn = await awaitOrClaimRefresh(path, async () => undefined, 5000);
    assert.equal(turn.kind, 'claimed');
    assert.equal(existsSync(`${path}.claim`), true);
    if (turn.kind === 'claimed') turn.release();
    assert.equal(existsSync(`${path}.claim`), false);
  });

  it('two at once: the first claims, the second waits and gets the first one result', async () => {
    const path = lockPath();
    let value: string | undefined;
    const read = async () => value;
    const first = await awaitOrClaimRefresh(path, read, 5000, 20);
    assert.equal(first.kind, 'claimed');
    const second = awaitOrClaimRefresh(path, read, 5000, 20);
    await new Promise((r) => setTimeout(r, 100));
    value = 'refreshed-by-first';
    if (first.kind === 'claimed') first.release();
    assert.deepEqual(await second, { kind: 'shared', value: 'refreshed-by-first' });
  });

  it('a live claim by someone else: waits until their result appears', async () => {
    const path = lockPath();
    mkdirSync(`${path}.claim`, { recursive: true });
    let value: string | undefined;
    setTimeout(() => (value = 'fresh'), 300);
    const started = Date.now();
    assert.deepEqual(await awaitOrClaimRefresh(path, async () => value, 5000, 20), { kind: 'shared', value: 'fresh' });
    assert.ok(Date.now() - started >= 250, 'returned before the other process wrote');
  });

  it('a live miss-path lock (.lock) is waited for too', async () => {
    const path = lockPath();
    mkdirSync(`${path}.lock`, { recursive: true });
    let value: string | undefined;
    setTimeout(() => (value = 'from-lock-holder'), 200);
    assert.deepEqual(await awaitOrClaimRefresh(path, async () => value, 5000, 20), { kind: 'shared', value: 'from-lock-holder' });
  });

  it('the other claimant gives up without a result: we claim after it is gone', async () => {
    const path = lockPath();
    mkdirSync(`${path}.claim`, { recursive: true });
    setTimeout(() => rmSync(`${path}.claim`, { recursive: true }), 150);
    const turn = await awaitOrClaimRefresh(path, async () => undefined, 5000, 20);
    assert.equal(turn.kind, 'claimed');
    if (turn.kind === 'claimed') turn.release();
  });

  it('a stale claim (dead owner) is taken over at once', async () => {
    const path = lockPath();
    mkdirSync(`${path}.claim`, { recursive: true });
    const old = new Date(Date.now() - LOCK_STALE_MS - 2000);
    utimesSync(`${path}.claim`, old, old);
    const turn = await awaitOrClaimRefresh(path, async () => undefined, 5000, 20);
    assert.equal(turn.kind, 'claimed');
    if (turn.kind === 'claimed') turn.release();
  });

  it('a live claim that never finishes: timeout at the wait budget', async () => {
    const path = lockPath();
    mkdirSync(`${path}.claim`, { recursive: true });
    const started = Date.now();
    assert.deepEqual(await awaitOrClaimRefresh(path, async () => undefined, 300, 20), { kind: 'timeout' });
    assert.ok(Date.now() - started < 3000);
  });
});
