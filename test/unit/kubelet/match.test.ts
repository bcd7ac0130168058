import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { filepathMatch, parseSchemelessUrl, urlsMatch } from '../../../src/kubelet/match.ts';
import { keyringLookup } from '../../helpers/kubelet-keyring.ts';

// Row numbers refer to the table in docs/reference/kubelet-protocol.md §8(a).

describe('urlsMatch: §8(a) pattern rows', () => {
  const rows: Array<[string, string, string, boolean]> = [
    ['1', '*.kubernetes.io', 'prefix.kubernetes.io', true],
    ['2', 'prefix.*.io', 'prefix.kubernetes.io', true],
    ['3', 'prefix.kubernetes.*', 'prefix.kubernetes.io', true],
    ['4', '*-good.kubernetes.io', 'prefix-good.kubernetes.io', true],
    ['5', '*.kubernetes.io/blah', 'prefix.kubernetes.io/blah', true],
    ['6', 'prefix.*.io/foo', 'prefix.kubernetes.io/foo/bar', true],
    ['7', '*.kubernetes.io:1111/blah', 'prefix.kubernetes.io:1111/blah', true],
    ['8', 'prefix.*.io:1111/foo', 'prefix.kubernetes.io:1111/foo/bar', true],
    ['9', '*.kubernetes.io', 'kubernetes.io', false],
    ['10', '*.*.kubernetes.io', 'prefix.kubernetes.io', false],
    ['11', '*.*.kubernetes.io', 'kubernetes.io', false],
    ['12', 'kubernetes.io', 'kubernetes.com', false],
    ['13', 'k*.io', 'quay.io', false],
    ['14', '*.kubernetes.io:1234/blah', 'prefix.kubernetes.io:1111/blah', false],
    ['15', 'prefix.*.io/foo', 'prefix.kubernetes.io:1111/foo/bar', false],
    ['41', 'test.registry.io', 'test.registry.io/foo/bar', true],
    ['42', '*.registry.io:8080', 'test.registry.io:8080/foo', true],
    ['43', '*.*.registry.io', 'foo.bar.registry.io/foo/bar', true],
    ['44', '*.registry.io', 'test.registry.io', true],
    ['45 DERIVED', '*.aliyuncs.com', 'registry.cn-hangzhou.aliyuncs.com/ns/app', false],
    ['46 DERIVED', '*.*.aliyuncs.com', 'registry.cn-hangzhou.aliyuncs.com/ns/app', true],
    ['47 DERIVED', 'registry.*.aliyuncs.com', 'registry-vpc.cn-hangzhou.aliyuncs.com/ns/app', false],
    ['48 DERIVED', 'registry*.*.aliyuncs.com', 'registry-vpc.cn-hangzhou.aliyuncs.com/ns/app', true],
    ['49 DERIVED', '*.*.cr.aliyuncs.com', 'inst-registry.cn-hangzhou.cr.aliyuncs.com/ns/app', true],
    ['50 DERIVED', '*.*.aliyuncs.com', 'inst-registry.cn-hangzhou.cr.aliyuncs.com/ns/app', false],
    ['51 DERIVED', 'registry.cn-hangzhou.aliyuncs.com', 'registry.cn-hangzhou.aliyuncs.com:443/ns/app', false],
    ['52 DERIVED', 'registry.io/*', 'registry.io/foo', false],
    ['53a DERIVED', '*', 'registry.example.com/app', false],
    ['53b DERIVED', '*', 'localhost/app', true],
    ['54 DERIVED', 'docker.io', 'docker.io/library/nginx', true],
    ['55 DERIVED', 'Registry.io', 'registry.io/app', false],
  ];
  for (const [row, glob, target, want] of rows) {
    it(`row ${row}: ${glob} vs ${target} -> ${want}`, () => assert.equal(urlsMatch(glob, target), want));
  }
});

describe('urlsMatch: further rules', () => {
  const rows: Array<[string, string, string, boolean]> = [
    ['port in target only', 'registry.io', 'registry.io:5000/app', false],
    ['port in glob only', 'registry.io:5000', 'registry.io/app', false],
    ['path is a string prefix', 'registry.io/team', 'registry.io/teamster/app', true],
    ['path longer than target', 'registry.io/team/app', 'registry.io/team', false],
    ['star never crosses a dot', 'reg*.io', 'reg.x.io', false],
    ['character class', 'registry-[a-c].io', 'registry-b.io', true],
    ['negated class', 'registry-[^a-c].io', 'registry-b.io', false],
    ['escaped star is literal', 'a\\*.io', 'ab.io', false],
    ['bad glob pattern never matches', '[.io', 'a.io', false],
    ['unparsable glob never matches', '%zz.io', '%zz.io', false],
    ['unparsable target never matches', '*.io', 'a b.io', false],
    ['both empty', '', '', true],
    ['scheme in glob never matches a normal image', 'https://registry.io', 'registry.io/app', false],
    ['question mark starts the query (literal host "reg")', 'reg?stry.io', 'reg/x', true],
    ['percent-decoded path', 'registry.io/a%2Fb', 'registry.io/a/b/c', true],
    ['empty port equals no port', 'registry.io:', 'registry.io/app', true],
    ['IPv6 literal with port', '[::1]:5000', '[::1]:5000/app', true],
    ['userinfo is not part of the host', 'registry.io', 'user@registry.io/app', true],
  ];
  for (const [name, glob, target, want] of rows) {
    it(`${name}: ${glob} vs ${target} -> ${want}`, () => assert.equal(urlsMatch(glob, target), want));
  }
});

describe('parseSchemelessUrl (url.Parse("https://" + s))', () => {
  const ok: Array<[string, { host: string; port: string; path: string }]> = [
    ['registry.io', { host: 'registry.io', port: '', path: '' }],
    ['registry.io:5000/ns/app', { host: 'registry.io', port: '5000', path: '/ns/app' }],
    ['*.registry.io', { host: '*.registry.io', port: '', path: '' }],
    ['registry.io/*', { host: 'registry.io', port: '', path: '/*' }],
    ['', { host: '', port: '', path: '' }],
    ['https://x', { host: 'https', port: '', path: '//x' }], // Host "https:", SplitHostPort -> "https" + empty port
    ['a?b/c', { host: 'a', port: '', path: '' }],
    ['a#frag', { host: 'a', port: '', path: '' }],
    ['a/b%20c', { host: 'a', port: '', path: '/b c' }],
    ['h%c3%a9.io', { host: 'hé.io', port: '', path: '' }],
    ['[fe80::1]:80/p', { host: 'fe80::1', port: '80', path: '/p' }],
    ['u:p@registry.io/x', { host: 'registry.io', port: '', path: '/x' }],
  ];
  for (const [input, want] of ok) {
    it(`parses ${JSON.stringify(input)}`, () => assert.deepEqual(parseSchemelessUrl(input), want));
  }

  const bad = [
    '%invalid%',
    'registry.io/%zz',
    'registry.io/%4',
    'h%41.io',
    'registry.io:*',
    'registry.io:abc',
    'registry.io:5000x/app',
    'a b.io',
    'a.io/x y\u0001',
    'a\u0000.io',
    'a\u007f.io',
    'a|b.io',
    'a\\b.io',
    '[::1',
    '[::1]x',
    '[not-ipv6]',
    'u s@registry.io',
    'a.io#%zz',
  ];
  for (const input of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => assert.equal(parseSchemelessUrl(input), undefined));
  }
});

describe('filepathMatch (Go path/filepath match_test.go vectors)', () => {
  const rows: Array<[string, string, boolean | 'bad']> = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['a[^a][^a][^a]b', 'a☺b', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[\\-x]', 'x', true],
    ['[\\-x]', '-', true],
    ['[\\-x]', 'a', false],
    ['[]a]', ']', 'bad'],
    ['[-]', '-', 'bad'],
    ['[x-]', 'x', 'bad'],
    ['[x-]', '-', 'bad'],
    ['[x-]', 'z', 'bad'],
    ['[-x]', 'x', 'bad'],
    ['[-x]', '-', 'bad'],
    ['[-x]', 'a', 'bad'],
    ['\\', 'a', 'bad'],
    ['[a-b-c]', 'a', 'bad'],
    ['[', 'a', 'bad'],
    ['[^', 'a', 'bad'],
    ['[^bc', 'a', 'bad'],
    ['a[', 'a', 'bad'],
    ['a[', 'ab', 'bad'],
    ['a[', 'x', 'bad'],
    ['a/b[', 'x', 'bad'],
    ['*x', 'xxx', true],
  ];
  for (const [pattern, name, want] of rows) {
    it(`${pattern} vs ${name} -> ${String(want)}`, () => assert.equal(filepathMatch(pattern, name), want));
  }
});

describe('keyringLookup: single auth keys through Add (§8(a) rows 16-30, 37-39)', () => {
  const rows: Array<[string, string, string, boolean]> = [
    ['16', 'https://hello.kubernetes.io', 'hello.kubernetes.io/foo/bar', true],
    ['17', 'https://prefix.docker.*', 'prefix.docker.io/foo/bar', true],
    ['18', 'https://prefix.*.io/path', 'prefix.docker.io/path/subpath/foo/bar', true],
    ['19', 'https://prefix.docker.*:8888', 'prefix.docker.io:8888/foo/bar', true],
    ['20', 'https://*.docker.io/path:1111', 'prefix.docker.io/path:1111/foo/bar', true],
    ['21', 'https://*.docker.io/v1/', 'prefix.docker.io/path:1111/foo/bar', true],
    ['22', 'https://*.docker.io/v2/', 'prefix.docker.io/path:1111/foo/bar', true],
    ['23', 'prefix.docker.io:1111', 'prefix.docker.io:1111/path/foo/bar', true],
    ['24', '*.docker.io:1111', 'prefix.docker.io:1111/path/foo/bar', true],
    ['25', 'https://hello.kubernetes.io', 'world.mesos.org/foo/bar', false],
    ['26', 'https://*.docker.com', 'prefix.docker.io/foo/bar', false],
    ['27', 'https://suffix.*.io', 'prefix.docker.io/foo/bar', false],
    ['28', 'https://prefix.docker.c*', 'prefix.docker.io/foo/bar', false],
    ['29', 'https://prefix.*.io/path:1111', 'prefix.docker.io/path/subpath:1111/foo/bar', false],
    ['30', 'suffix.*.io', 'prefix.docker.io/foo/bar', false],
    ['37a', 'https://quay.io/v1/', 'quay.io', true],
    ['37b', 'https://quay.io/v1/', 'quay.io/foo', true],
    ['37c', 'https://quay.io/v1/', 'quay.io/foo/bar', true],
    ['38a', 'https://index.docker.io/v1/', 'google/docker-registry', true],
    ['38b', 'https://index.docker.io/v1/', 'jenkins', true],
    ['39', 'https://index.docker.io/v1/', 'world.mesos.org/foo/bar', false],
    ['http scheme kept, then dropped', 'http://registry.io/v2/team', 'registry.io/team/app', true],
    ['unparsable key dropped', 'registry.io:abc', 'registry.io/app', false],
  ];
  for (const [row, key, image, want] of rows) {
    it(`row ${row}: key ${key}, image ${image} -> ${want}`, () => {
      assert.deepEqual(keyringLookup({ [key]: 'hit' }, image), want ? ['hit'] : []);
    });
  }
});

describe('keyringLookup: several keys (§8(a) rows 31-36)', () => {
  const keys = { 'bar.example.com/pong': 'grace', 'bar.example.com': 'ada' };
  const rows: Array<[string, string, string[]]> = [
    ['31', 'bar.example.com', ['ada']],
    ['32', 'bar.example.com/pong', ['grace', 'ada']],
    ['33', 'bar.example.com/ping', ['ada']],
    ['34', 'bar.example.com/pongz', ['grace', 'ada']],
    ['35', 'bar.example.com/pong/pang', ['grace', 'ada']],
    ['36a', 'example.com', []],
    ['36b', 'foo.example.com', []],
  ];
  for (const [row, image, want] of rows) {
    it(`row ${row}: ${image} -> [${want.join(', ')}]`, () => assert.deepEqual(keyringLookup(keys, image), want));
  }

  it('orders literal labels before wildcards (reverse byte order)', () => {
    const got = keyringLookup({ '*.registry.io': 'glob', 'a.registry.io': 'literal' }, 'a.registry.io/x');
    assert.deepEqual(got, ['literal', 'glob']);
  });

  it('keys that normalize to the same index key keep all labels', () => {
    const got = keyringLookup({ 'https://quay.io/v1/': 'one', 'quay.io': 'two' }, 'quay.io/x');
    assert.deepEqual([...got].sort(), ['one', 'two']);
  });
});

describe('keyringLookup: Docker Hub fallback (§8(a) row 40, isDefaultRegistryMatch)', () => {
  const hub = { 'https://index.docker.io/v1/': 'hub' };
  const rows: Array<[string, boolean]> = [
    ['foo/bar', true],
    ['docker.io/foo/bar', true],
    ['index.docker.io/foo/bar', true],
    ['foo', true],
    ['', false],
    ['registry.tld/foo/bar', false],
    ['registry:5000/foo/bar', false],
    ['myhostdocker.io/foo/bar', false],
  ];
  for (const [image, want] of rows) {
    it(`${JSON.stringify(image)} -> ${want}`, () => assert.deepEqual(keyringLookup(hub, image), want ? ['hub'] : []));
  }

  it('does not fall back when another key matched', () => {
    assert.deepEqual(keyringLookup({ ...hub, 'docker.io': 'dio' }, 'docker.io/foo/bar'), ['dio']);
  });
});
