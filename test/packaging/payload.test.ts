// The payload directories of npm run build:binary (dist/payload/linux-<arch>/) as an installer
// will read them: the manifest lists exactly the files there, with their sizes, sha256 and modes;
// lib/ holds the loader the binary names and exactly the libraries it needs (the ELF NEEDED
// closure, computed here again from the files themselves), all built for the target machine.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/run-provider.ts';
import { binaryOf, ensurePayloads, missingTool, payloadDirOf } from '../binary/build-outputs.ts';
import { parseManifest, type PayloadManifest } from '../../src/payload/manifest.ts';
import { elfInterpreter, elfMachine, elfNeeded, elfSoname, isElf } from './elf-facts.ts';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NODE_VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'node', 'package.json'), 'utf8')) as { version: string }).version;
const MACHINE = { amd64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' } as const;
const missing = missingTool('readelf', 'dpkg-deb', 'apt-get');

/** Every entry under dir (files, links, anything but directories) as relative paths. */
function entriesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() && !e.isSymbolicLink() ? entriesUnder(dir, rel) : [rel];
  });
}

before(async () => {
  if (!missing) await ensurePayloads();
});

for (const arch of ['amd64', 'arm64'] as const) {
  describe(`payload linux-${arch}`, { skip: missing }, () => {
    const dir = payloadDirOf(arch);
    let manifest: PayloadManifest;
    before(() => {
      manifest = parseManifest(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    });

    it('the manifest names this architecture, the package version and what the files come from', () => {
      assert.equal(manifest.arch, arch);
      assert.equal(manifest.version, VERSION);
      assert.equal(manifest.components.node, NODE_VERSION);
      // The libc really is the Debian build the manifest names.
      const banner = /GNU C Library \(Debian GLIBC ([^)]+)\)/.exec(readFileSync(join(dir, 'lib', 'libc.so.6'), 'latin1'));
      assert.equal(banner?.[1], manifest.components.libc6);
    });

    it('lists exactly the regular files of the directory, with their size, sha256 and mode', (t) => {
      const entries = entriesUnder(dir).filter((p) => p !== 'manifest.json').sort();
      assert.deepEqual(manifest.files.map((f) => f.path), entries);
      for (const f of manifest.files) {
        const p = join(dir, f.path);
        const st = lstatSync(p);
        assert.ok(st.isFile(), `${f.path} is a regular file (no symlinks)`);
        assert.equal(st.size, f.size, f.path);
        assert.equal((st.mode & 0o7777).toString(8).padStart(4, '0'), f.mode, f.path);
        assert.equal(createHash('sha256').update(readFileSync(p)).digest('hex'), f.sha256, f.path);
      }
      const total = manifest.files.reduce((n, f) => n + f.size, 0);
      t.diagnostic(`linux-${arch}: ${manifest.files.length} files, ${(total / 1024 / 1024).toFixed(1)} MiB`);
    });

    it('the binary is the one build:binary made, and the loader is the one it names', () => {
      assert.equal(statSync(join(dir, manifest.binary)).ino, statSync(binaryOf(arch)).ino, 'hard-linked, not a second copy');
      const interpreter = elfInterpreter(join(dir, manifest.binary));
      assert.ok(interpreter);
      assert.equal(interpreter.slice(interpreter.lastIndexOf('/') + 1), manifest.loader);
      assert.equal(elfInterpreter(join(dir, 'lib', manifest.loader)), undefined, 'the loader needs no loader');
    });

    it('lib/ holds exactly the NEEDED closure of the binary, each library under its soname, all for this machine', () => {
      const libs = new Set(readdirSync(join(dir, 'lib')));
      const needed = new Set<string>();
      const queue = [join(dir, manifest.binary)];
      while (queue.length) {
        for (const soname of elfNeeded(queue.shift()!)) {
          if (needed.has(soname)) continue;
          needed.add(soname);
          assert.ok(libs.has(soname), `${soname} is needed but not in lib/`);
          if (soname !== manifest.loader) queue.push(join(dir, 'lib', soname));
        }
      }
      needed.add(manifest.loader);
      assert.deepEqual([...libs].sort(), [...needed].sort(), 'nothing missing, nothing extra');
      for (const name of libs) {
        const p = join(dir, 'lib', name);
        assert.ok(isElf(readFileSync(p).subarray(0, 4)), name);
        assert.equal(elfMachine(p), MACHINE[arch], name);
        if (name !== manifest.loader) assert.equal(elfSoname(p), name, `${name} is stored under its soname`);
      }
      assert.equal(elfMachine(join(dir, manifest.binary)), MACHINE[arch]);
    });

    it('carries the licences of what it ships', () => {
      for (const pkg of ['libc6', 'libstdc++6', 'libgcc-s1']) assert.ok(manifest.files.some((f) => f.path === `doc/${pkg}/copyright`), pkg);
      assert.match(readFileSync(join(dir, 'doc', 'node', 'LICENSE'), 'utf8'), /Node\.js is licensed/);
    });
  });
}
