import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOCK_STALE_MS, waitForRunningRefresh } from '../../../src/cache/refresh-watch.ts';

describe('waitForRunningRefresh', () => {
  let dir: string;
  let n = 0;
  const lockPath = () => join(dir, `key-${++n}`);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'refresh-watch-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('without a lock, reads once and returns what the cache holds', async () => {
    let reads = 0;
    const value = await waitForRunningRefresh(lockPath(), async () => (++reads, 'v'), 5000);
    assert.equal(value, 'v');
    assert.equal(reads, 1);
  });

  it('while a live lock is held, polls until the holder writes its result', async () => {
    const path = lockPath();
    mkdirSync(`${path}.lock`);
    let value: string | undefined;
    setTimeout(() => (value = 'fresh'), 300);
    const started = Date.now();
    assert.equal(await waitForRunningRefresh(path, async () => value, 5000, 20), 'fresh');
    assert.ok(Date.now() - started >= 250, 'returned before the holder wrote');
  });

  it('when the lock disappears without a result, gives up after one last read', async () => {
    const path = lockPath();
    mkdirSync(`${path}.lock`);
    setTimeout(() => rmSync(`${path}.lock`, { recursive: true }), 150);
    let reads = 0;
    assert.equal(await waitForRunningRefresh(path, async () => (++reads, undefined), 5000, 20), undefined);
    assert.ok(reads >= 2);
  });

  it('a stale lock (dead holder) is not waited for', async () => {
    const path = lockPath();
    mkdirSync(`${path}.lock`);
    const old = new Date(Date.now() - LOCK_STALE_MS - 2000);
    utimesSync(`${path}.lock`, old, old);
    let reads = 0;
    assert.equal(await waitForRunningRefresh(path, async () => (++reads, undefined), 5000, 20), undefined);
    assert.equal(reads, 0);
  });

  it('stops at the wait budget even if the lock stays', async () => {
    const path = lockPath();
    mkdirSync(`${path}.lock`);
    const started = Date.now();
    assert.equal(await waitForRunningRefresh(path, async () => undefined, 300, 20), undefined);
    assert.ok(Date.now() - started < 2000);
  });
});
