import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCacheDir } from '../../../src/cache/cache-dir.ts';
import { HardenedFileStore } from '../../../src/cache/file-store.ts';
import { openCacheStore, type CacheStore } from '../../../src/cache/store.ts';
import type { TrustedDir } from '../../../src/fs/trusted-dir.ts';
import { isTokenEntry, type TokenEntry } from '../../../src/provider/token-entry.ts';

const SECRET = 'SECRET-PASSWORD-4f1d9c';
const ENTRY: TokenEntry = { username: 'cr_temp_user', password: SECRET, obtainedAt: 1, expiresAt: 2, refreshAt: 2 };

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'acr-store-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

let dir: string;
let opened: TrustedDir;
let ignored: string[];
let store: CacheStore;
let n = 0;
beforeEach(() => {
  dir = join(root, `d${n++}`);
  mkdirSync(dir, { mode: 0o700 });
  opened = openChecked(dir);
  ignored = [];
  store = openCacheStore(opened, (reason) => ignored.push(reason));
});

function openChecked(path: string): TrustedDir {
  const check = checkCacheDir(path);
  assert.ok(check.usable, check.usable ? '' : check.reason);
  return check.dir;
}

/** The one file the store keeps for `key` (keys are namespaced "v1:"). */
function fileFor(key: string): string {
  return join(dir, new HardenedFileStore(opened).fileName(`v1:${key}`));
}

/** Writes a cache file as the provider would have: 0600. */
function plant(key: string, content: string | Buffer): void {
  writeFileSync(fileFor(key), content, { mode: 0o600 });
}

const anything = (v: unknown): v is unknown => true;

describe('openCacheStore: round trip and file hygiene', () => {
  let oldUmask: number;
  beforeEach(() => {
    oldUmask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(oldUmask);
  });

  it('writes 0600 files under umask 022 and reads the value back', async () => {
    await store.set('token:ak-1:ee:cn-hangzhou:prod', ENTRY, 60_000);
    const path = fileFor('token:ak-1:ee:cn-hangzhou:prod');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(await store.get('token:ak-1:ee:cn-hangzhou:prod', isTokenEntry), ENTRY);
    assert.deepEqual(ignored, []);
  });

  it('rewrites keep 0600 and leave no temp files behind', async () => {
    for (let i = 0; i < 20; i++) await store.set('k', { i }, 60_000);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`k${i % 3}`, { i }, 60_000)));
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ['v1_3ak', 'v1_3ak0', 'v1_3ak1', 'v1_3ak2']);
    for (const f of files) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    assert.deepEqual(await store.get('k', anything), { i: 19 });
  });

  it('a pre-existing 0644 file is replaced by a 0600 one', async () => {
    writeFileSync(fileFor('k'), 'old', { mode: 0o644 });
    chmodSync(fileFor('k'), 0o644);
    await store.set('k', 1, 60_000);
    assert.equal(statSync(fileFor('k')).mode & 0o777, 0o600);
  });

  it('distinct keys map to distinct files; keys with separators are safe file names', async () => {
    const keys = ['a:b', 'a_b', 'a/b', '../escape', 'a%3Ab'];
    for (const [i, k] of keys.entries()) await store.set(k, i, 60_000);
    for (const [i, k] of keys.entries()) assert.equal(await store.get(k, anything), i);
    assert.equal(readdirSync(dir).length, keys.length);
    assert.deepEqual(readdirSync(root).filter((f) => f.includes('escape')), []);
  });

  it('delete removes the entry', async () => {
    await store.set('k', 1, 60_000);
    await store.delete('k');
    assert.equal(await store.get('k', anything), undefined);
    await store.delete('never-written'); // no throw
  });

  it('works in the directory it was opened on, whatever its path points to later', async () => {
    const moved = `${dir}-moved`;
    const elsewhere = join(root, `elsewhere${n++}`);
    mkdirSync(elsewhere, { mode: 0o700 });
    renameSync(dir, moved);
    symlinkSync(elsewhere, dir);
    await store.set('k', 1, 60_000);
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing written where the path now points');
    assert.deepEqual(readdirSync(moved), ['v1_3ak']);
    assert.equal(await store.get('k', anything), 1);
  });

  it('refreshLock is a claim directory inside a 0700 locks/ directory of the opened cache, per key', () => {
    const a = store.refreshLock('token:a');
    const b = store.refreshLock('token:b');
    assert.ok(a !== undefined && b !== undefined);
    const releaseA = a.tryTake();
    assert.equal(typeof releaseA, 'function');
    assert.equal(typeof b.tryTake(), 'function', 'another key is not blocked');
    assert.deepEqual(readdirSync(join(dir, 'locks')).sort(), ['token_3aa.claim', 'token_3ab.claim']);
    assert.equal(statSync(join(dir, 'locks')).mode & 0o777, 0o700);
    assert.equal(store.refreshLock('token:a')?.tryTake(), 'held');
    if (typeof releaseA === 'function') releaseA();
  });

  it('refreshLock is undefined (reported once) when locks/ is not a directory of ours', () => {
    writeFileSync(join(dir, 'locks'), 'x');
    assert.equal(store.refreshLock('token:a'), undefined);
    assert.equal(store.refreshLock('token:b'), undefined);
    assert.equal(ignored.length, 1);
    assert.match(ignored[0] ?? '', /locks directory .* not a directory/);
  });
});

describe('openCacheStore: served markers and keys', () => {
  it('markServed creates a 0600 marker once and moves its mtime to the clock; lastServed reads it back', () => {
    let now = 1_800_000_000_000;
    const clocked = openCacheStore(opened, (reason) => ignored.push(reason), { now: () => now, sleep: async () => undefined });
    assert.equal(clocked.lastServed('token:a'), undefined);
    clocked.markServed('token:a');
    assert.equal(clocked.lastServed('token:a'), now);
    const marker = join(dir, 'served', 'v1_3atoken_3aa');
    assert.equal(statSync(join(dir, 'served')).mode & 0o777, 0o700);
    assert.equal(lstatSync(marker).mode & 0o777, 0o600);
    now += 3600_000;
    clocked.markServed('token:a');
    assert.equal(clocked.lastServed('token:a'), now);
    assert.equal(readFileSync(marker, 'utf8'), '', 'an empty file: only its time matters');
  });

  it('a symbolic link planted as a marker is never followed', () => {
    const target = join(root, `target${n++}`);
    writeFileSync(target, 'x');
    const before = statSync(target).mtimeMs;
    mkdirSync(join(dir, 'served'), { mode: 0o700 });
    symlinkSync(target, join(dir, 'served', 'v1_3atoken_3aa'));
    store.markServed('token:a');
    assert.equal(statSync(target).mtimeMs, before, 'the target was not touched');
    assert.equal(store.lastServed('token:a'), undefined, 'a link is not a marker');
  });

  it('keys lists the keys with a prefix, not markers, locks or other entries', async () => {
    await store.set('token:id1:ee:cn-hangzhou:a', 1, 60_000);
    await store.set('token:id1:personal:cn-beijing', 1, 60_000);
    await store.set('instance:id1:cn-hangzhou:name:a', 1, 60_000);
    store.markServed('token:id1:ee:cn-hangzhou:a');
    store.refreshLock('token:id1:ee:cn-hangzhou:a');
    assert.deepEqual(store.keys('token:').sort(), ['token:id1:ee:cn-hangzhou:a', 'token:id1:personal:cn-beijing']);
    assert.deepEqual(store.keys('instance:'), ['instance:id1:cn-hangzhou:name:a']);
  });
});

describe('openCacheStore: expiry', () => {
  it('an expired record reads as undefined and is removed', async () => {
    await store.set('short', ENTRY, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await store.get('short', isTokenEntry), undefined);
    assert.deepEqual(ignored, []);
  });

  it('a record whose outer expiry has passed reads as undefined even if the inner one has not', async () => {
    plant('k', JSON.stringify({ value: JSON.stringify({ value: ENTRY, expires: Date.now() + 60_000 }), expire: Date.now() - 1 }));
    assert.equal(await store.get('k', isTokenEntry), undefined);
  });

  it("a record whose Keyv expiry has passed reads as undefined", async () => {
    plant('k', JSON.stringify({ value: JSON.stringify({ value: ENTRY, expires: Date.now() - 1 }) }));
    assert.equal(await store.get('k', isTokenEntry), undefined);
  });

  it('a record without expiry is served', async () => {
    plant('k', JSON.stringify({ value: JSON.stringify({ value: ENTRY }) }));
    assert.deepEqual(await store.get('k', isTokenEntry), ENTRY);
  });

  it('a long TTL is kept', async () => {
    await store.set('long', ENTRY, 24 * 3600_000);
    const record = JSON.parse(readFileSync(fileFor('long'), 'utf8')) as { expire: number };
    assert.ok(record.expire > Date.now() + 23 * 3600_000);
    assert.deepEqual(await store.get('long', isTokenEntry), ENTRY);
  });
});

describe('openCacheStore: damaged files read as undefined, never throw, never echo content', () => {
  const good = JSON.stringify({ value: JSON.stringify({ value: ENTRY, expires: Date.now() + 3600_000 }), expire: Date.now() + 3600_000 });
  const rows: Array<[string, string | Buffer]> = [
    ['an empty file', ''],
    ['a truncated record', good.slice(0, Math.floor(good.length / 2))],
    ['a record cut one byte short', good.slice(0, -1)],
    ['garbage bytes', Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37, 0x80])],
    ['text garbage with the secret', `not json ${SECRET}`],
    ['null', 'null'],
    ['a number', '42'],
    ['a string', JSON.stringify(SECRET)],
    ['an array', JSON.stringify([ENTRY])],
    ['an object without value', JSON.stringify({ password: SECRET })],
    ['a non-numeric expire', JSON.stringify({ value: JSON.stringify({ value: ENTRY }), expire: 'never' })],
    ['an inner value that is not JSON', JSON.stringify({ value: `{"value": {"password": "${SECRET}"` })],
    ['an inner value of the wrong shape', JSON.stringify({ value: JSON.stringify({ value: { password: SECRET } }) })],
    ['an inner value that is a bare entry (no Keyv wrapper)', JSON.stringify({ value: ENTRY })],
    ['an inner null', JSON.stringify({ value: 'null' })],
    ['an inner value that is a number', JSON.stringify({ value: 5 })],
  ];
  for (const [name, content] of rows) {
    it(name, async () => {
      plant('token:k', content);
      const got = await store.get('token:k', isTokenEntry);
      assert.equal(got, undefined);
      for (const reason of ignored) {
        assert.ok(!reason.includes(SECRET), `reason leaks content: ${reason}`);
        assert.ok(!reason.includes('{'), `reason quotes JSON: ${reason}`);
        assert.doesNotMatch(reason, /\n/);
      }
    });
  }

  it('reports the ignored file by key for corrupt and wrong-shape content', async () => {
    plant('token:k', 'garbage');
    await store.get('token:k', isTokenEntry);
    plant('token:k', JSON.stringify({ value: JSON.stringify({ value: { password: SECRET } }) }));
    await store.get('token:k', isTokenEntry);
    assert.equal(ignored.length, 2);
    assert.match(ignored[0] ?? '', /token:k.*corrupt/);
    assert.match(ignored[1] ?? '', /token:k.*unexpected shape/);
  });

  it('a directory where the file should be is reported as not a regular file, not thrown', async () => {
    mkdirSync(fileFor('token:k'));
    assert.equal(await store.get('token:k', isTokenEntry), undefined);
    assert.equal(ignored.length, 1);
    assert.match(ignored[0] ?? '', /token:k is not a regular file/);
  });

  it('a missing file is silently absent', async () => {
    assert.equal(await store.get('token:none', isTokenEntry), undefined);
    assert.deepEqual(ignored, []);
  });

  it('a damaged file is replaced by the next write', async () => {
    plant('token:k', good.slice(0, 10));
    assert.equal(await store.get('token:k', isTokenEntry), undefined);
    await store.set('token:k', ENTRY, 60_000);
    assert.deepEqual(await store.get('token:k', isTokenEntry), ENTRY);
  });
});

describe('HardenedFileStore directly', () => {
  it('get returns the stored value and honours expire', async () => {
    const files = new HardenedFileStore(opened);
    await files.set('plain', { a: 1 }, 60_000);
    assert.deepEqual(await files.get('plain'), { a: 1 });
    await files.set('gone', { a: 1 }, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await files.get('gone'), undefined);
    await files.set('forever', 'x');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, files.fileName('forever')), 'utf8')), { value: 'x' });
  });

  it('onIgnoredFile defaults to a no-op', async () => {
    const files = new HardenedFileStore(opened);
    writeFileSync(join(dir, files.fileName('bad')), '{', { mode: 0o600 });
    assert.equal(await files.get('bad'), undefined);
  });
});

describe('files that are not the provider\'s own are ignored, never followed', () => {
  const record = (): string => JSON.stringify({ value: JSON.stringify({ value: ENTRY }) });

  it('a symbolic link: ignored (reported), its target untouched, replaced on write', async () => {
    const target = join(root, `target${n++}`);
    writeFileSync(target, record(), { mode: 0o600 });
    symlinkSync(target, fileFor('token:k'));
    assert.equal(await store.get('token:k', isTokenEntry), undefined);
    assert.match(ignored[0] ?? '', /token:k is a symbolic link/);
    await store.set('token:k', ENTRY, 60_000);
    assert.ok(lstatSync(fileFor('token:k')).isFile());
    assert.equal(readFileSync(target, 'utf8'), record());
  });

  it('a file others can read: ignored', async () => {
    writeFileSync(fileFor('token:k'), record(), { mode: 0o644 });
    chmodSync(fileFor('token:k'), 0o644);
    assert.equal(await store.get('token:k', isTokenEntry), undefined);
    assert.match(ignored[0] ?? '', /token:k is accessible to group or others \(mode 0644\)/);
  });

  it('a file of another user: ignored, and the rewrite is ours', async (t) => {
    if (process.geteuid?.() !== 0) return t.skip('needs root to chown');
    plant('token:k', record());
    chownSync(fileFor('token:k'), 1000, 1000);
    assert.equal(await store.get('token:k', isTokenEntry), undefined);
    assert.match(ignored[0] ?? '', /token:k is owned by uid 1000/);
    await store.set('token:k', ENTRY, 60_000);
    assert.equal(statSync(fileFor('token:k')).uid, 0);
  });

  it('a file larger than 256 KiB: ignored without reading it', async () => {
    plant('token:k', record().padEnd(257 * 1024, ' '));
    assert.equal(await store.get('token:k', isTokenEntry), undefined);
    assert.match(ignored[0] ?? '', /token:k is larger than 256 KiB/);
  });
});
