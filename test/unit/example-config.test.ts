import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PROVIDER_API_VERSIONS } from '../../src/kubelet/api.ts';
import { parseGoDuration } from '../../src/kubelet/go-duration.ts';
import { parseSchemelessUrl, urlsMatch } from '../../src/kubelet/match.ts';
import { registryHostOf } from '../../src/kubelet/request.ts';
import { classifyRegistryHost } from '../../src/acr/registry-host.ts';
import { builtinMatchImages } from '../../src/acr/host-forms.ts';

const BUILTIN_MATCH_IMAGES = builtinMatchImages();

const path = new URL('../../kubelet-config.example.yaml', import.meta.url);
const text = readFileSync(path, 'utf8');
const config = parse(text) as Record<string, unknown>;

// The kubelet decodes the config strictly: only these fields exist.
const TOP_LEVEL_FIELDS = ['apiVersion', 'kind', 'providers'];
const PROVIDER_FIELDS = ['name', 'matchImages', 'defaultCacheDuration', 'apiVersion', 'args', 'env', 'tokenAttributes'];

function provider(): Record<string, unknown> {
  const providers = config['providers'];
  assert.ok(Array.isArray(providers));
  const p: unknown = providers[0];
  assert.ok(typeof p === 'object' && p !== null);
  return p as Record<string, unknown>;
}

function matchImages(): string[] {
  const m = provider()['matchImages'];
  assert.ok(Array.isArray(m) && m.every((x) => typeof x === 'string'));
  return m as string[];
}

describe('kubelet-config.example.yaml: a valid CredentialProviderConfig', () => {
  it('has only known top-level fields, v1 and the right kind', () => {
    for (const key of Object.keys(config)) assert.ok(TOP_LEVEL_FIELDS.includes(key), `unknown field ${key}`);
    assert.equal(config['apiVersion'], 'kubelet.config.k8s.io/v1');
    assert.equal(config['kind'], 'CredentialProviderConfig');
  });

  it('has exactly one provider with only known fields', () => {
    const providers = config['providers'];
    assert.ok(Array.isArray(providers));
    assert.equal(providers.length, 1);
    for (const key of Object.keys(provider())) assert.ok(PROVIDER_FIELDS.includes(key), `unknown field ${key}`);
  });

  it('names the provider after the binary, with a valid name', () => {
    const name = provider()['name'];
    assert.ok(typeof name === 'string' && !/[/ ]/.test(name) && !/^\.\.?$/.test(name), 'a valid provider name');
    assert.equal(name, 'aliyun-acr-credential-provider');
  });

  it('uses the v1 exec protocol', () => {
    const v = provider()['apiVersion'];
    assert.ok((PROVIDER_API_VERSIONS as readonly unknown[]).includes(v));
    assert.equal(v, 'credentialprovider.kubelet.k8s.io/v1');
  });

  it('has a non-negative defaultCacheDuration of 10m', () => {
    const d = provider()['defaultCacheDuration'];
    assert.equal(typeof d, 'string');
    assert.equal(parseGoDuration(d as string), 600_000);
  });

  it('passes the plugin config path as args', () => {
    assert.deepEqual(provider()['args'], ['--config', '/etc/kubernetes/aliyun-acr-credential-provider/config.json']);
  });

  it('has matchImages that the kubelet accepts (url.Parse("https://" + s))', () => {
    const patterns = matchImages();
    assert.ok(patterns.length >= 1);
    for (const p of patterns) assert.notEqual(parseSchemelessUrl(p), undefined, p);
    assert.equal(new Set(patterns).size, patterns.length, 'no duplicates');
  });

  it('shows a commented-out custom domain example', () => {
    assert.match(text, /^\s*#\s*- "[a-z0-9.-]+(:\d+)?"\s*$/m);
  });
});

describe('kubelet-config.example.yaml: matchImages route every supported host form to the plugin', () => {
  const images = [
    'registry.cn-hangzhou.aliyuncs.com/ns/app',
    'registry-vpc.cn-hangzhou.aliyuncs.com/ns/app',
    'registry-internal.cn-hangzhou.aliyuncs.com/ns/app',
    'registry-intl.ap-southeast-1.aliyuncs.com/ns/app',
    'registry-intl-vpc.ap-southeast-1.aliyuncs.com/ns/app',
    'registry-intl-internal.ap-southeast-2.aliyuncs.com/ns/app',
    'registry.cn-shanghai-finance-1.aliyuncs.com/ns/app',
    'registry-vpc.cn-wulanchabu-gic-1.aliyuncs.com/ns/app',
    'registry.cn-north-2-gov-1.aliyuncs.com/ns/app',
    'registry-intl.us-west-1.aliyuncs.com/ns/sub/app',
    'myinst-registry.cn-hangzhou.cr.aliyuncs.com/ns/app',
    'myinst-registry-vpc.cn-hangzhou.cr.aliyuncs.com/ns/app',
    'my-team-registry.ap-southeast-1.cr.aliyuncs.com/ns/app',
    'my-registry-registry-vpc.cn-shanghai-finance-1.cr.aliyuncs.com/ns/app',
    'crpi-abc123.cn-hangzhou.personal.cr.aliyuncs.com/ns/app',
    'crpi-abc123-vpc.cn-hangzhou.personal.cr.aliyuncs.com/ns/app',
    // The HTTPS port spelled out: a pattern without a port never matches these.
    'registry.cn-hangzhou.aliyuncs.com:443/ns/app',
    'registry-intl-vpc.ap-southeast-1.aliyuncs.com:443/ns/app',
    'myinst-registry.cn-hangzhou.cr.aliyuncs.com:443/ns/app',
    'myinst-registry-vpc.cn-hangzhou.cr.aliyuncs.com:443/ns/app',
    'crpi-abc123.cn-hangzhou.personal.cr.aliyuncs.com:443/ns/app',
  ];
  for (const image of images) {
    it(image, () => {
      assert.notEqual(classifyRegistryHost(registryHostOf(image)).kind, 'unrecognized', 'a supported form');
      assert.ok(matchImages().some((p) => urlsMatch(p, image)), 'some matchImages entry matches');
      assert.ok(BUILTIN_MATCH_IMAGES.some((p) => urlsMatch(p, image)), 'the installer writes a matching entry too');
    });
  }
});

describe('kubelet-config.example.yaml: hosts the kubelet must not send us', () => {
  const images = [
    'docker.io/library/nginx',
    'registry.cn-hangzhou.aliyuncs.com:5000/ns/app',
    'myinst-registry.cn-hangzhou.cr.aliyuncs.com:8443/ns/app',
    'registry.cn-hangzhou.aliyuncs.com:0443/ns/app',
    'foo.example.com/app',
    'gcr.io/project/app',
    'registry.cn-hangzhou.aliyuncs.com.evil.com/ns/app',
    'x-registry.cn-shanghai.cr.aliyuncs.com.attacker.io/ns/app',
    'mybucket.oss-cn-hangzhou.aliyuncs.com/app',
    'ecs.cn-hangzhou.aliyuncs.com/app',
    'cr.cn-hangzhou.aliyuncs.com/app',
    'oss-cn-hangzhou.aliyuncs.com/app',
    'localhost/app',
  ];
  for (const image of images) {
    it(image, () => {
      const hits = matchImages().filter((p) => urlsMatch(p, image));
      assert.deepEqual(hits, []);
      assert.deepEqual(BUILTIN_MATCH_IMAGES.filter((p) => urlsMatch(p, image)), []);
    });
  }
});

describe('kubelet-config.example.yaml: the commented ServiceAccount-token provider, once uncommented', () => {
  // The block starts at "  # - name:" and runs while lines stay "  # " comments of the list item.
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^ {2}# - name: /.test(l));
  const block: string[] = [];
  for (let i = start; i >= 0 && i < lines.length && /^ {2}#( |$)/.test(lines[i] ?? ''); i++) block.push((lines[i] ?? '').slice(4));
  const uncommented = parse(`${text}\n${block.map((l) => `  ${l}`).join('\n')}\n`) as Record<string, unknown>;
  const providers = uncommented['providers'] as Array<Record<string, unknown>>;
  const sa = providers[1] ?? {};

  it('is found and parses as a second provider', () => {
    assert.ok(start > 0, 'the commented provider exists');
    assert.equal(providers.length, 2);
  });

  it('has only known fields, a distinct valid name, v1 and the same plugin config', () => {
    for (const key of Object.keys(sa)) assert.ok(PROVIDER_FIELDS.includes(key), `unknown field ${key}`);
    const name = sa['name'];
    assert.ok(typeof name === 'string' && !/[/ ]/.test(name) && name !== provider()['name'], 'a distinct executable name');
    assert.equal(sa['apiVersion'], 'credentialprovider.kubelet.k8s.io/v1', 'tokenAttributes needs the v1 exec protocol');
    assert.equal(parseGoDuration(sa['defaultCacheDuration'] as string), 600_000);
    assert.deepEqual(sa['args'], provider()['args']);
    for (const p of sa['matchImages'] as string[]) assert.notEqual(parseSchemelessUrl(p), undefined, p);
  });

  it('has tokenAttributes a 1.34+ kubelet accepts (validateCredentialProviderConfig rules)', () => {
    const t = sa['tokenAttributes'] as Record<string, unknown>;
    const known = ['serviceAccountTokenAudience', 'cacheType', 'requireServiceAccount', 'requiredServiceAccountAnnotationKeys', 'optionalServiceAccountAnnotationKeys'];
    for (const key of Object.keys(t)) assert.ok(known.includes(key), `unknown tokenAttributes field ${key}`);
    assert.equal(t['serviceAccountTokenAudience'], 'sts.aliyuncs.com');
    assert.equal(t['cacheType'], 'ServiceAccount', 'required since 1.34; ServiceAccount since we never echo the token');
    assert.equal(typeof t['requireServiceAccount'], 'boolean', 'must be set');
    const required = (t['requiredServiceAccountAnnotationKeys'] ?? []) as string[];
    const optional = (t['optionalServiceAccountAnnotationKeys'] ?? []) as string[];
    if (required.length > 0) assert.equal(t['requireServiceAccount'], true);
    assert.deepEqual(optional, ['pod-identity.alibabacloud.com/role-name']);
    for (const k of [...required, ...optional]) assert.match(k, /^([a-z0-9.-]+\/)?[A-Za-z0-9._-]+$/);
    assert.equal(new Set([...required, ...optional]).size, required.length + optional.length, 'a key is required or optional, not both');
  });
});
