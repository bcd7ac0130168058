// The bundler refuses a build whose cache-hit path would load a cloud SDK, the CLI library, the
// YAML parser or the installer: the real bundler is run on a copy of the tree with one forbidden
// static import injected into the hit path's provider module.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A copy of what the bundler reads, with `inject` prepended to src/provider/provide.ts. */
function treeWith(inject: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'acr-bundle-'));
  made.push(dir);
  for (const p of ['src', 'packaging/build', 'package.json']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const provide = join(dir, 'src/provider/provide.ts');
  writeFileSync(provide, `${inject}\n${readFileSync(provide, 'utf8')}`);
  return dir;
}

function bundle(dir: string) {
  return spawnSync(process.execPath, ['packaging/build/bundle.ts'], { cwd: dir, encoding: 'utf8' });
}

describe('hit-path guard in the bundler', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['the YAML parser', "import { parse as injectedParse } from 'yaml';\nexport const injected = injectedParse;", /^bundle: the YAML parser is on the cache-hit path \(\d+ files\): src\/main\.ts -> .*src\/provider\/provide\.ts -> \S*node_modules\/yaml\/\S+$/m],
    ['a cloud SDK', "export { default as injected } from '@alicloud/openapi-client';", /^bundle: an Alibaba Cloud SDK is on the cache-hit path \(\d+ files\): src\/main\.ts -> .*src\/provider\/provide\.ts -> \S*node_modules\/@alicloud\/openapi-client\/\S+$/m],
    ['the installer', "export { runInstall as injected } from '../install/install.ts';", /^bundle: the installer is on the cache-hit path \(\d+ files\): src\/main\.ts -> .*src\/provider\/provide\.ts -> src\/install\/install\.ts$/m],
  ];
  for (const [what, inject, message] of cases) {
    it(`fails when ${what} reaches the hit path, naming the import chain`, () => {
      const r = bundle(treeWith(inject));
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, message);
    });
  }

  it('builds the same tree without the injection', () => {
    const r = bundle(treeWith('// nothing injected'));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });
});
