import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCacheDir, prepareCacheDir } from '../../../src/cache/cache-dir.ts';

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

describe('checkCacheDir', () => {
  it('accepts a 0700 directory of ours', () => {
    assert.deepEqual(checkCacheDir(dirWithMode(0o700)), { usable: true });
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
      assert.deepEqual(checkCacheDir(d), { usable: false, reason: `has mode ${text}, expected 700` });
      assert.equal(modeOf(d), mode);
    });
  }

  it('accepts stricter modes than 0700 (group/other bits are what matter)', () => {
    assert.equal(checkCacheDir(dirWithMode(0o500)).usable, true);
  });

  it('rejects a file', () => {
    const f = join(root, `f${n++}`);
    writeFileSync(f, '', { mode: 0o600 });
    assert.deepEqual(checkCacheDir(f), { usable: false, reason: 'is not a directory' });
  });

  it('reports a missing directory', () => {
    assert.deepEqual(checkCacheDir(join(root, 'missing')), { usable: false, reason: 'does not exist yet' });
  });

  it('reports a path through a file as unreadable', () => {
    const f = join(root, `f${n++}`);
    writeFileSync(f, '');
    assert.deepEqual(checkCacheDir(join(f, 'sub')), { usable: false, reason: 'cannot be read (ENOTDIR)' });
  });

  it('rejects a 0700 directory owned by another uid', (t) => {
    if (!isRoot) return t.skip('needs root to chown');
    const d = dirWithMode(0o700);
    chownSync(d, 65534, 65534);
    assert.deepEqual(checkCacheDir(d), { usable: false, reason: 'is owned by uid 65534, not by us (uid 0)' });
  });
});

describe('prepareCacheDir', () => {
  it('creates a missing directory (and parents) 0700 under umask 022', () => {
    const d = join(root, `new${n++}`, 'a', 'b');
    assert.deepEqual(prepareCacheDir(d), { usable: true });
    assert.equal(modeOf(d), 0o700);
    assert.ok(statSync(d).isDirectory());
  });

  it('is idempotent on a good directory', () => {
    const d = dirWithMode(0o700);
    assert.deepEqual(prepareCacheDir(d), { usable: true });
    assert.deepEqual(prepareCacheDir(d), { usable: true });
    assert.equal(modeOf(d), 0o700);
  });

  // An existing directory others could write to is refused, never chmod-ed and reused: files
  // planted while it was open would otherwise be trusted.
  for (const mode of [0o755, 0o777, 0o770, 0o701]) {
    it(`refuses a ${mode.toString(8)} directory of ours and leaves its mode alone`, () => {
      const d = dirWithMode(mode);
      assert.deepEqual(prepareCacheDir(d), { usable: false, reason: `has mode ${mode.toString(8)}, expected 700` });
      assert.equal(modeOf(d), mode);
    });
  }

  it('does not touch a directory owned by someone else', (t) => {
    if (!isRoot) return t.skip('needs root to chown');
    const d = dirWithMode(0o755);
    chownSync(d, 65534, 65534);
    const check = prepareCacheDir(d);
    assert.deepEqual(check, { usable: false, reason: 'is owned by uid 65534, not by us (uid 0)' });
    assert.equal(modeOf(d), 0o755, 'mode unchanged');
    assert.equal(statSync(d).uid, 65534);
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
    const check = prepareCacheDir(join(f, 'cache'));
    assert.deepEqual(check, { usable: false, reason: 'cannot be created (ENOTDIR)' });
  });
});
