// The safe file primitives: the checked directory walk, capped non-blocking reads and appends,
// and the atomic replace. The attacks themselves run end to end in test/security/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceFileAtomically } from '../../../src/fs/atomic-write.ts';
import { openForAppend, readRegularFile, UnsafeFileError } from '../../../src/fs/regular-file.ts';
import { openTrustedDir, openTrustedSubdir, type DirPolicy } from '../../../src/fs/trusted-dir.ts';

const isRoot = process.geteuid?.() === 0;
const PRIVATE: DirPolicy = { owner: 'self', mode: 'private', create: false };
const SHARED: DirPolicy = { owner: 'anyone', mode: 'not-writable-by-others', create: false };

let root: string;
let n = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'acr-fs-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

function fresh(mode = 0o700): string {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  chmodSync(d, mode);
  return d;
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return 'no error';
}

describe('openTrustedDir', () => {
  it('resolves relative symbolic links, with .. in their target, inside checked directories', () => {
    const base = fresh();
    mkdirSync(join(base, 'a', 'b'), { recursive: true, mode: 0o700 });
    symlinkSync('a/b/..', join(base, 'up'));
    const dir = openTrustedDir(join(base, 'up', 'b'), PRIVATE);
    assert.equal(statSync(dir.self()).ino, statSync(join(base, 'a', 'b')).ino);
    dir.close();
  });

  it('restarts from / for an absolute link target, and checks that path too', () => {
    const base = fresh();
    const open = fresh(0o777);
    mkdirSync(join(open, 'inner'), { mode: 0o700 });
    symlinkSync(join(open, 'inner'), join(base, 'abs'));
    assert.match(reason(() => openTrustedDir(join(base, 'abs'), PRIVATE)), /which is writable by others \(mode 777\)/);
  });

  it('gives up on a symbolic link loop', () => {
    const base = fresh();
    symlinkSync('loop', join(base, 'loop'));
    assert.match(reason(() => openTrustedDir(join(base, 'loop'), PRIVATE)), /too many symbolic links/);
  });

  it('at() reaches entries of the opened directory, and refuses names that would leave it', () => {
    const base = fresh();
    const dir = openTrustedDir(base, PRIVATE);
    writeFileSync(dir.at('x'), 'y');
    assert.equal(readFileSync(join(base, 'x'), 'utf8'), 'y');
    for (const bad of ['', '..', 'a/b', '../x']) assert.throws(() => dir.at(bad), /not a plain entry name/);
    dir.close();
  });

  it('a directory of another user is fine where the policy says anyone (node-exporter), not when writable by others', (t) => {
    if (!isRoot) return t.skip('needs root to chown');
    const theirs = fresh(0o755);
    chownSync(theirs, 1000, 1000);
    openTrustedDir(theirs, SHARED).close();
    chmodSync(theirs, 0o777);
    assert.match(reason(() => openTrustedDir(theirs, SHARED)), /is writable by others \(mode 777\)/);
    chmodSync(theirs, 0o1777);
    assert.match(reason(() => openTrustedDir(theirs, SHARED)), /is writable by others \(mode 1777\)/, 'sticky but not ours');
  });

  it('a group-writable directory (Ubuntu /var/log, 0775 root): refused, unless the policy lets the group write', () => {
    const logs = fresh(0o775);
    assert.match(reason(() => openTrustedDir(logs, SHARED)), /is writable by its group \(mode 775\)/);
    openTrustedDir(logs, { ...SHARED, groupMayWrite: true }).close();
    mkdirSync(join(logs, 'sub'), { mode: 0o700 });
    assert.match(reason(() => openTrustedDir(join(logs, 'sub'), PRIVATE)), /is inside .*, which is writable by its group/);
    openTrustedDir(join(logs, 'sub'), { ...PRIVATE, groupMayWrite: true }).close();
    chmodSync(logs, 0o777);
    assert.match(reason(() => openTrustedDir(logs, { ...SHARED, groupMayWrite: true })), /is writable by others \(mode 777\)/);
  });

  it('openTrustedSubdir refuses a symbolic link and creates a missing directory 0700', () => {
    const base = fresh();
    const dir = openTrustedDir(base, PRIVATE);
    symlinkSync(base, join(base, 'link'));
    assert.match(reason(() => openTrustedSubdir(dir, 'link', { ...PRIVATE, create: true })), /is a symbolic link/);
    openTrustedSubdir(dir, 'made', { ...PRIVATE, create: true }).close();
    assert.equal(statSync(join(base, 'made')).mode & 0o777, 0o700);
    dir.close();
  });
});

describe('without /proc (a chroot, a minimal sandbox)', () => {
  it('the walk falls back to checked paths: same verdicts, entries reached by real path', (t) => {
    const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true']);
    if (probe.status !== 0) return t.skip('cannot make a mount namespace here');
    const good = fresh();
    const parent = fresh(0o777);
    mkdirSync(join(parent, 'cache'), { mode: 0o700 });
    const fixture = fileURLToPath(new URL('./fixtures/no-proc.ts', import.meta.url));
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'umount -l /proc && exec "$@"', 'sh', process.execPath, fixture, good, join(parent, 'cache')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(out, { proc: false, at: join(good, 'entry'), content: 'written', sub: join(good, 'sub'), refusal: `is inside ${parent}, which is writable by others (mode 777): others could swap what is in it` });
  });
});

describe('readRegularFile', () => {
  it('a FIFO: refused at once, without blocking', () => {
    const fifo = join(fresh(), 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => readRegularFile(fifo, 1024, { owner: 'anyone' }), (e) => e instanceof UnsafeFileError && e.reason === 'is not a regular file');
  });

  it('a sparse 3 GB file: refused by its size, nothing read', () => {
    const big = join(fresh(), 'big');
    writeFileSync(big, '');
    truncateSync(big, 3 * 1024 ** 3);
    assert.throws(() => readRegularFile(big, 64 * 1024, { owner: 'anyone' }), /is larger than 64 KiB/);
  });

  it('reads a file of exactly the cap, refuses one byte more', () => {
    const d = fresh();
    writeFileSync(join(d, 'ok'), 'x'.repeat(1000));
    writeFileSync(join(d, 'over'), 'x'.repeat(1001));
    assert.equal(readRegularFile(join(d, 'ok'), 1000, { owner: 'anyone' }).length, 1000);
    assert.throws(() => readRegularFile(join(d, 'over'), 1000, { owner: 'anyone' }), /larger than/);
  });

  it('noFollow: a symbolic link is ELOOP; without it, followed', () => {
    const d = fresh();
    writeFileSync(join(d, 'target'), 'content');
    symlinkSync(join(d, 'target'), join(d, 'link'));
    assert.throws(() => readRegularFile(join(d, 'link'), 100, { owner: 'anyone', noFollow: true }), { code: 'ELOOP' });
    assert.equal(readRegularFile(join(d, 'link'), 100, { owner: 'anyone' }).toString(), 'content');
  });
});

describe('openForAppend', () => {
  it('refuses a file with a second hard link', () => {
    const d = fresh();
    writeFileSync(join(d, 'log'), '', { mode: 0o600 });
    execFileSync('ln', [join(d, 'log'), join(d, 'other-name')]);
    assert.throws(() => openForAppend(join(d, 'log'), { owner: 'self' }), /has 2 hard links/);
  });

  it('a FIFO with nobody reading: fails at once (ENXIO), never blocks', () => {
    const fifo = join(fresh(), 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => openForAppend(fifo, { owner: 'self' }), { code: 'ENXIO' });
  });
});

describe('replaceFileAtomically', () => {
  it('replaces a symbolic link without following it, leaves no temp file, sets the mode', () => {
    const d = fresh();
    const target = join(root, `target${n++}`);
    writeFileSync(target, 'keep');
    symlinkSync(target, join(d, 'name'));
    const dir = openTrustedDir(d, PRIVATE);
    replaceFileAtomically(dir, 'name', 'new', 0o644);
    dir.close();
    assert.equal(readFileSync(target, 'utf8'), 'keep');
    assert.ok(lstatSync(join(d, 'name')).isFile());
    assert.equal(statSync(join(d, 'name')).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(d), ['name']);
  });

  it('the new file is ours, whoever owned the old one', (t) => {
    if (!isRoot) return t.skip('needs root to chown');
    const d = fresh();
    writeFileSync(join(d, 'name'), 'old');
    chownSync(join(d, 'name'), 1000, 1000);
    const dir = openTrustedDir(d, PRIVATE);
    replaceFileAtomically(dir, 'name', 'new', 0o600);
    dir.close();
    assert.equal(statSync(join(d, 'name')).uid, 0);
  });
});
