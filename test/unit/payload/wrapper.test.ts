// The wrapper the kubelet runs (src/payload/wrapper.ts), executed by the machine's /bin/sh and by
// busybox sh, with a fake loader at <dir>/lib/ that reports what it was given: every argument
// arrives unchanged whatever the install directory is called, and the loader is exec-ed (same
// process: stdin, stdout, exit code).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { ProviderError } from '../../../src/errors.ts';
import { renderWrapper } from '../../../src/payload/wrapper.ts';

const LOADER = 'ld-linux-fake.so.1';
const base = mkdtempSync(join(tmpdir(), 'acr-wrapper-'));
after(() => rmSync(base, { recursive: true, force: true }));

const shells = ['/bin/sh', ...(spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim() ? ['busybox sh'] : [])];

let counter = 0;
/** An install dir named `name` holding a fake loader with the given body, and its wrapper. */
function install(name: string, loaderBody: string): { dir: string; wrapper: string } {
  const dir = join(base, `${counter++}`, name);
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'lib', LOADER), `#!/bin/sh\n${loaderBody}\n`);
  chmodSync(join(dir, 'lib', LOADER), 0o755);
  const wrapper = join(dir, '..', 'wrapper');
  writeFileSync(wrapper, renderWrapper(dir, LOADER), { mode: 0o755 });
  return { dir, wrapper };
}

/** Runs the wrapper with `shell` (or directly, by its #! line) and returns what the fake saw. */
function run(shell: string | undefined, wrapper: string, args: string[], input = '') {
  const [file, ...pre] = shell ? [...shell.split(' '), wrapper] : [wrapper];
  const r = spawnSync(file!, [...pre, ...args], { input, env: { PATH: '/usr/bin:/bin' } });
  return { code: r.status, pid: r.pid, stdout: r.stdout, fields: r.stdout.toString('utf8').split('\0').slice(0, -1) };
}

const REPORT = `printf '%s\\0' "$$" "$@"`;

describe('renderWrapper: the script', () => {
  it('passes the loader its options, the wrapper name as argv0, the binary and every argument unchanged', () => {
    const { dir, wrapper } = install('plain', REPORT);
    const args = ['--config', '/etc/x y.json', '', ' ', '*', '$HOME', '`id`', "it's", '"q"', '\\', 'a\nb', '-', '--', 'ünïcødé'];
    for (const shell of [undefined, ...shells]) {
      const r = run(shell, wrapper, args);
      assert.equal(r.code, 0, shell);
      assert.deepEqual(r.fields.slice(1), ['--inhibit-cache', '--library-path', `${dir}/lib`, '--argv0', wrapper, `${dir}/aliyun-acr-credential-provider`, ...args], shell ?? '#!');
      // exec: the fake loader runs as the process that was started, no shell left behind it.
      assert.equal(Number(r.fields[0]), r.pid, `${shell ?? '#!'}: the loader replaced the shell`);
    }
  });

  it('stdin, stdout and the exit code are the loader\'s own', () => {
    const { wrapper } = install('io', 'cat; exit 42');
    const input = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 256));
    const r = spawnSync(wrapper, [], { input });
    assert.equal(r.status, 42);
    assert.ok(r.stdout.equals(input), 'stdout is stdin, byte for byte');
  });

  it('any install directory name reaches the loader exactly (quotes, spaces, globs, backslashes, unicode)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9 '"`\\*?!#&|<>(){}[\]~^%@=+,.\-_\u00e9\u4e2d]{1,24}$/).filter((n) => n !== '.' && n !== '..'), fc.array(fc.string({ maxLength: 12 }).filter((a) => !a.includes('\0')), { maxLength: 4 }), (name, args) => {
        const { dir, wrapper } = install(name, REPORT);
        const r = run(undefined, wrapper, args);
        assert.equal(r.code, 0);
        assert.deepEqual(r.fields.slice(1), ['--inhibit-cache', '--library-path', `${dir}/lib`, '--argv0', wrapper, `${dir}/aliyun-acr-credential-provider`, ...args]);
      }),
      { numRuns: 40 },
    );
  });

  it('is a pure function of the directory and the loader: two lines, the same bytes every time', () => {
    const a = renderWrapper('/opt/acr/0.1.0-amd64-0123456789abcdef', 'ld-linux-x86-64.so.2');
    assert.equal(a, renderWrapper('/opt/acr/0.1.0-amd64-0123456789abcdef/', 'ld-linux-x86-64.so.2'), 'a trailing slash changes nothing');
    assert.notEqual(a, renderWrapper('/opt/acr/0.1.0-amd64-fedcba9876543210', 'ld-linux-x86-64.so.2'));
    assert.notEqual(a, renderWrapper('/opt/acr/0.1.0-amd64-0123456789abcdef', 'ld-linux-aarch64.so.1'));
    assert.equal(a.split('\n').length, 3, 'shebang, exec line, final newline');
    assert.ok(a.startsWith('#!/bin/sh\nexec '));
  });
});

describe('renderWrapper: refuses what the kubelet could not run', () => {
  const cases: [string, string, string, RegExp][] = [
    ['relative directory', 'opt/acr', 'ld-linux-x86-64.so.2', /absolute/],
    ['the root itself', '/', 'ld-linux-x86-64.so.2', /normalised/],
    ['a ".." segment', '/opt/../acr', 'ld-linux-x86-64.so.2', /normalised/],
    ['an empty segment', '/opt//acr', 'ld-linux-x86-64.so.2', /normalised/],
    ['a newline', '/opt/acr\n', 'ld-linux-x86-64.so.2', /control characters/],
    ['a ":" (library path separator)', '/opt/a:b', 'ld-linux-x86-64.so.2', /":"/],
    ['a "$" (the loader expands $ORIGIN)', '/opt/$ORIGIN', 'ld-linux-x86-64.so.2', /"\$"/],
    ['a loader that is a path', '/opt/acr', '../ld-linux-x86-64.so.2', /dynamic loader/],
    ['a loader that is another library', '/opt/acr', 'libc.so.6', /dynamic loader/],
    ['an empty loader name', '/opt/acr', '', /dynamic loader/],
  ];
  for (const [what, dir, loader, message] of cases) {
    it(what, () => {
      assert.throws(() => renderWrapper(dir, loader), (e: unknown) => e instanceof ProviderError && message.test(e.message));
    });
  }
});
