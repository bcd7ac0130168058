import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheDirectory, checkCacheDir, prepareCacheDir, prepareOwnCacheDir, type CacheDirCheck } from '../../../src/cache/cache-dir.ts';

const isRoot = process.geteuid?.() === 0;

let root: string;
let oldUmask: number;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'acr-cachedir-'));
});
after(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => {
  oldUmask = process.umask(0o022);
});
afterEach(() => {
  process.umask(oldUmask);
});

let n = 0;
function dirWithMode(mode: number): string {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  chmodSync(d, mode);
  return d;
}
const modeOf = (p: string): number => statSync(p).mode & 0o777;

/** The refusal reason, or 'usable' (closing the descriptor). */
function outcome(check: CacheDirCheck): string {
  if (!check.usable) return check.reason;
  check.dir.close();
  return 'usable';
}

describe('checkCacheDir', () => {
  it('accepts a 0700 directory of ours, and opens it', () => {
    const check = checkCacheDir(dirWithMode(0o700));
    assert.ok(check.usable);
    assert.ok(statSync(check.dir.self()).isDirectory());
    check.dir.close();
  });

  const modes: Array<[number, string]> = [
    [0o755, '755'],
    [0o750, '750'],
    [0o701, '701'],
    [0o710, '710'],
    [0o777, '777'],
  ];
  for (const [mode, text] of modes) {
    it(`rejects a ${text} directory and leaves it alone`, () => {
      const d = dirWithMode(mode);
      assert.equal(outcome(checkCacheDir(d)), `has mode ${text}, expected 700`);
      assert.equal(modeOf(d), mode);
    });
  }

  it('accepts stricter modes than 0700 (group/other bits are what matter)', () => {
    assert.equal(outcome(checkCacheDir(dirWithMode(0o500))), 'usable');
  });

  it('rejects a file', () => {
    const f = join(root, `f${n++}`);
    writeFileSync(f, '', { mode: 0o600 });
    assert.equal(outcome(checkCacheDir(f)), 'is not a directory');
  });

  it('reports a missing directory', () => {
    const check = checkCacheDir(join(root, 'missing'));
    assert.deepEqual(check, { usable: false, reason: 'does not exist yet', missing: true });
  });

  it('reports a path through a file', () => {
    const f = join(root, `f${n++}`);
    writeFileSync(f, '');
    assert.equal(outcome(checkCacheDir(join(f, 'sub'))), `is under ${f}, which is not a directory`);
  });

  it('rejects a 0700 directory owned by another uid', (t) => {
    if (!isRoot) return t.skip('needs root to chown');
    const d = dirWithMode(0o700);
    chownSync(d, 65534, 65534);
    assert.equal(outcome(checkCacheDir(d)), 'is owned by uid 65534, not by us (uid 0)');
  });

  it('rejects a good directory inside one another user owns (they could swap it)', (t) => {
    if (!isRoot) return t.skip('needs root to chown');
    const parent = dirWithMode(0o755);
    chownSync(parent, 1000, 1000);
    mkdirSync(join(parent, 'cache'), { mode: 0o700 });
    assert.match(outcome(checkCacheDir(join(parent, 'cache'))), new RegExp(`^is inside ${parent}, which is owned by uid 1000`));
  });

  it('rejects a good directory inside a world-writable one that is not sticky', () => {
    const parent = dirWithMode(0o777);
    mkdirSync(join(parent, 'cache'), { mode: 0o700 });
    assert.match(outcome(checkCacheDir(join(parent, 'cache'))), /which is writable by others \(mode 777\)/);
  });

  it('accepts a good directory inside a root-owned sticky one (like /tmp)', () => {
    const parent = dirWithMode(0o1777);
    mkdirSync(join(parent, 'cache'), { mode: 0o700 });
    assert.equal(outcome(checkCacheDir(join(parent, 'cache'))), 'usable');
  });

  it('follows a symbolic link of ours to a good directory', () => {
    const real = dirWithMode(0o700);
    const link = join(root, `link${n++}`);
    symlinkSync(real, link);
    assert.equal(outcome(checkCacheDir(link)), 'usable');
  });

  it('refuses a symbolic link of another user, even in a sticky directory', (t) => {
    if (!isRoot) return t.skip('needs root to chown');
    const sticky = dirWithMode(0o1777);
    const real = dirWithMode(0o700);
    const link = join(sticky, 'cache');
    symlinkSync(real, link);
    lchownSync(link, 1000, 1000);
    assert.equal(outcome(checkCacheDir(link)), 'is a symbolic link owned by uid 1000');
  });
});

describe('prepareCacheDir', () => {
  it('creates a missing directory (and parents) 0700 under umask 022', () => {
    const d = join(root, `new${n++}`, 'a', 'b');
    assert.equal(outcome(prepareCacheDir(d)), 'usable');
    assert.equal(modeOf(d), 0o700);
    assert.ok(statSync(d).isDirectory());
  });

  it('is idempotent on a good directory', () => {
    const d = dirWithMode(0o700);
    assert.equal(outcome(prepareCacheDir(d)), 'usable');
    assert.equal(outcome(prepareCacheDir(d)), 'usable');
    assert.equal(modeOf(d), 0o700);
  });

  // An existing directory others could write to is refused, never chmod-ed and reused: files
  // planted while it was open would otherwise be trusted.
  for (const mode of [0o755, 0o777, 0o770, 0o701]) {
    it(`refuses a ${mode.toString(8)} directory of ours and leaves its mode alone`, () => {
      const d = dirWithMode(mode);
      assert.equal(outcome(prepareCacheDir(d)), `has mode ${mode.toString(8)}, expected 700`);
      assert.equal(modeOf(d), mode);
    });
  }

  it('does not touch a directory owned by someone else', (t) => {
    if (!isRoot) return t.skip('needs root to chown');
    const d = dirWithMode(0o755);
    chownSync(d, 65534, 65534);
    assert.equal(outcome(prepareCacheDir(d)), 'is owned by uid 65534, not by us (uid 0)');
    assert.equal(modeOf(d), 0o755, 'mode unchanged');
    assert.equal(statSync(d).uid, 65534);
  });

  it('creates nothing inside a parent another user owns', (t) => {
    if (!isRoot) return t.skip('needs root to chown');
    const parent = dirWithMode(0o755);
    chownSync(parent, 1000, 1000);
    assert.match(outcome(prepareCacheDir(join(parent, 'cache'))), /owned by uid 1000/);
    assert.throws(() => statSync(join(parent, 'cache')), { code: 'ENOENT' });
  });

  it('refuses a file in the way', () => {
    const f = join(root, `f${n++}`);
    writeFileSync(f, 'x', { mode: 0o644 });
    assert.equal(prepareCacheDir(f).usable, false);
    assert.equal(modeOf(f), 0o644);
  });

  it('reports a directory it cannot create', () => {
    const f = join(root, `f${n++}`);
    writeFileSync(f, 'x');
    assert.equal(outcome(prepareCacheDir(join(f, 'cache'))), `is under ${f}, which is not a directory`);
  });
});

describe('prepareOwnCacheDir (the pre-warmer: a hostPath volume the kubelet made 0755)', () => {
  it('makes a directory of ours that only we can write 0700, and says from what', () => {
    for (const mode of [0o755, 0o750, 0o711, 0o705]) {
      const d = dirWithMode(mode);
      const check = prepareOwnCacheDir(d);
      assert.equal(check.usable && check.tightenedFrom, mode);
      if (check.usable) check.dir.close();
      assert.equal(modeOf(d), 0o700);
    }
  });

  it('leaves a good directory alone, and creates a missing one 0700', () => {
    const d = dirWithMode(0o700);
    const check = prepareOwnCacheDir(d);
    assert.ok(check.usable && check.tightenedFrom === undefined);
    if (check.usable) check.dir.close();
    const missing = join(root, `m${n++}`, 'cache');
    assert.equal(outcome(prepareOwnCacheDir(missing)), 'usable');
    assert.equal(modeOf(missing), 0o700);
  });

  it('never "fixes" a directory others could write to, a sticky one, or one inside an untrusted parent', () => {
    for (const mode of [0o775, 0o757, 0o777, 0o1777]) {
      const d = dirWithMode(mode);
      assert.equal(prepareOwnCacheDir(d).usable, false, `mode ${mode.toString(8)}`);
      assert.equal(statSync(d).mode & 0o7777, mode, 'mode unchanged');
    }
    const open = dirWithMode(0o777);
    const inside = join(open, 'cache');
    mkdirSync(inside, { mode: 0o755 });
    chmodSync(inside, 0o755);
    assert.match(outcome(prepareOwnCacheDir(inside)), /writable by others/);
    assert.equal(modeOf(inside), 0o755);
  });

  it('never takes another user\'s directory', (t) => {
    if (!isRoot) return t.skip('needs root to chown');
    const d = dirWithMode(0o755);
    chownSync(d, 1000, 1000);
    assert.equal(prepareOwnCacheDir(d).usable, false);
    assert.equal(modeOf(d), 0o755);
  });
});

describe('CacheDirectory (one open per invocation)', () => {
  it('opens once: later calls get the same descriptor, even after the path is swapped', () => {
    const d = dirWithMode(0o700);
    const cache = new CacheDirectory(d);
    const first = cache.open(false);
    assert.ok(first.usable);
    renameSync(d, `${d}-moved`);
    const again = cache.open(true);
    assert.ok(again.usable);
    assert.equal(again.dir.fd, first.dir.fd);
    first.dir.close();
  });

  it('a missing directory is created when a writer asks, not when a reader does', () => {
    const d = join(root, `later${n++}`);
    const cache = new CacheDirectory(d);
    assert.equal(outcome(cache.open(false)), 'does not exist yet');
    assert.throws(() => statSync(d), { code: 'ENOENT' });
    assert.equal(outcome(cache.open(true)), 'usable');
    assert.equal(modeOf(d), 0o700);
  });
});
