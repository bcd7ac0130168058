// The payload manifest (src/payload/manifest.ts): what the build writes parses back to the same
// thing, and every way a manifest could lead an installer astray is refused with a message that
// names it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProviderError } from '../../../src/errors.ts';
import { encodeManifest, MANIFEST_FORMAT, parseManifest, payloadId, type PayloadManifest } from '../../../src/payload/manifest.ts';

const hash = (c: string): string => c.repeat(64);

function valid(): PayloadManifest {
  return {
    format: MANIFEST_FORMAT,
    version: '0.1.0',
    arch: 'amd64',
    binary: 'aliyun-acr-credential-provider',
    loader: 'ld-linux-x86-64.so.2',
    components: { node: '24.21.0', libc6: '2.36-9+deb12u14' },
    files: [
      { path: 'aliyun-acr-credential-provider', mode: '0755', size: 127143104, sha256: hash('a') },
      { path: 'doc/libc6/copyright', mode: '0644', size: 25467, sha256: hash('b') },
      { path: 'lib/ld-linux-x86-64.so.2', mode: '0755', size: 215000, sha256: hash('c') },
      { path: 'lib/libc.so.6', mode: '0644', size: 1922136, sha256: hash('d') },
    ],
  };
}

describe('payload manifest', () => {
  it('round-trips: encode then parse gives the same manifest, encoding is stable', () => {
    const m = valid();
    const text = encodeManifest(m);
    assert.deepEqual(parseManifest(text), m);
    assert.equal(encodeManifest(parseManifest(text)), text);
    assert.ok(text.endsWith('}\n'));
  });

  const broken: [string, (m: any) => unknown, RegExp][] = [
    ['not JSON', () => '{', /not JSON/],
    ['another format', (m) => ((m.format = 'something/v2'), m), /at format/],
    ['an unknown key', (m) => ((m.extra = 1), m), /extra/],
    ['an unknown architecture', (m) => ((m.arch = 'riscv64'), m), /at arch/],
    ['a loader that is not ld-linux-*', (m) => ((m.loader = 'libc.so.6'), m), /at loader/],
    ['an absolute path', (m) => ((m.files[1].path = '/etc/passwd'), m), /files\.1\.path/],
    ['a path with ..', (m) => ((m.files[1].path = 'doc/../../etc/passwd'), m), /files\.1\.path/],
    ['a path with an empty segment', (m) => ((m.files[1].path = 'doc//copyright'), m), /files\.1\.path/],
    ['a "." segment', (m) => ((m.files[1].path = 'doc/./copyright'), m), /files\.1\.path/],
    ['a mode other than 0755 or 0644', (m) => ((m.files[1].mode = '4755'), m), /files\.1\.mode/],
    ['a negative size', (m) => ((m.files[1].size = -1), m), /files\.1\.size/],
    ['an uppercase or short sha256', (m) => ((m.files[1].sha256 = 'ABC'), m), /files\.1\.sha256/],
    ['unsorted files', (m) => (m.files.reverse(), m), /not sorted/],
    ['a duplicate file', (m) => (m.files.splice(2, 0, { ...m.files[1] }), m), /not sorted and unique/],
    ['a file that is also a directory', (m) => (m.files.splice(1, 0, { path: 'doc', mode: '0644', size: 1, sha256: hash('e') }), m), /both as a file and as a directory/],
    ['no loader file', (m) => (m.files.splice(2, 1), m), /does not list lib\/ld-linux-x86-64\.so\.2/],
    ['no binary', (m) => (m.files.splice(0, 1), m), /does not list aliyun-acr-credential-provider/],
    ['a binary that is not executable', (m) => ((m.files[0].mode = '0644'), m), /mode 0644, not 0755/],
  ];
  for (const [what, mutate, message] of broken) {
    it(`refuses ${what}`, () => {
      const mutated = mutate(structuredClone(valid()));
      const text = typeof mutated === 'string' ? mutated : JSON.stringify(mutated);
      assert.throws(() => parseManifest(text), (e: unknown) => e instanceof ProviderError && message.test(e.message) && !e.message.includes('\n'));
    });
  }

  it('payloadId: version, architecture and a digest of every file; any file change gives another id', () => {
    const m = valid();
    const id = payloadId(m);
    assert.match(id, /^0\.1\.0-amd64-[0-9a-f]{16}$/);
    assert.equal(payloadId(parseManifest(encodeManifest(m))), id);
    for (const change of [(x: PayloadManifest) => (x.files[3]!.sha256 = hash('f')), (x: PayloadManifest) => (x.files[1]!.mode = '0755'), (x: PayloadManifest) => (x.files[1]!.path = 'doc/libc6/COPYING')]) {
      const other = structuredClone(m);
      change(other);
      assert.notEqual(payloadId(other), id);
    }
  });
});
