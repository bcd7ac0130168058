// The command line for humans: --help, --version, and get-credentials with tags and digests.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { count, eeHost, PE_HOST, withCloud } from '../helpers/cloud.ts';
import { assertNoStackTrace, assertOneLineFailure, fullApiVersion, REPO_ROOT, runProvider, stderrLines } from '../helpers/run-provider.ts';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface PrettyResponse {
  kind: string;
  apiVersion: string;
  cacheKeyType: string;
  cacheDuration?: string;
  auth?: Record<string, { username: string; password: string }>;
}

describe('--help and --version', () => {
  it('--help exits 0 with usage on stdout and nothing on stderr', async () => {
    const r = await runProvider({ args: ['--help'] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /aliyun-acr-credential-provider/);
    assert.match(r.stdout, /get-credentials/);
    for (const flag of ['--config', '--cache-dir', '--expiring-threshold', '--timeout', '--log-level', '--help', '--version']) assert.ok(r.stdout.includes(flag), `help mentions ${flag}`);
  });

  it('get-credentials --help describes the command', async () => {
    const r = await runProvider({ args: ['get-credentials', '--help'] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--show-password/);
  });

  it('--version prints the package version', async () => {
    const r = await runProvider({ args: ['--version'] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), VERSION);
    assert.equal(r.stderr, '');
  });
});

describe('get-credentials IMAGE', () => {
  const images: Array<[string, string]> = [
    ['a tag', `${PE_HOST}/ns/app:v1.2.3`],
    ['a digest', `${PE_HOST}/ns/app@sha256:${'ab'.repeat(32)}`],
    ['a tag and a digest', `${PE_HOST}/ns/app:latest@sha256:${'cd'.repeat(32)}`],
    ['no tag', `${PE_HOST}/ns/app`],
  ];
  for (const [name, image] of images) {
    it(`works with ${name}`, () =>
      withCloud(async ({ e, run }) => {
        const r = await run({ args: ['get-credentials', image, '--show-password'] });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(stderrLines(r.stderr), []);
        const doc = JSON.parse(r.stdout) as PrettyResponse;
        assert.equal(doc.kind, 'CredentialProviderResponse');
        assert.equal(doc.apiVersion, fullApiVersion('v1'));
        assert.equal(doc.cacheKeyType, 'Registry');
        assert.deepEqual(Object.keys(doc.auth ?? {}), [PE_HOST]);
        const token = e.state.issuedTokens()[0];
        assert.equal(doc.auth?.[PE_HOST]?.password, token?.password);
        assert.equal(e.state.issuedTokens().length, 1);
      }));
  }

  it('an Enterprise Edition image with a tag, answered in v1beta1', () =>
    withCloud(async ({ e, run }) => {
      const inst = e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      const host = eeHost('acme');
      const r = await run({ args: ['get-credentials', `${host}/ns/app:1.0`, '--api-version', 'v1beta1', '--show-password'] });
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as PrettyResponse;
      assert.equal(doc.apiVersion, fullApiVersion('v1beta1'));
      const token = e.state.issuedTokens()[0];
      assert.equal(token?.instanceId, inst.instanceId);
      assert.equal(doc.auth?.[host]?.password, token?.password);
    }));

  it('a non-ACR image: exit 0, no credentials, no cloud call', () =>
    withCloud(async ({ e, run }) => {
      const r = await run({ args: ['get-credentials', 'docker.io/library/nginx:1.27'] });
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as PrettyResponse;
      assert.equal(doc.cacheKeyType, 'Image');
      assert.equal(doc.auth, undefined);
      assert.equal(count(e), 0);
    }));

  it('a missing IMAGE or a bad --api-version: one line, non-zero exit', () =>
    withCloud(async ({ run }) => {
      assertOneLineFailure(await run({ args: ['get-credentials'] }));
      assertOneLineFailure(await run({ args: ['get-credentials', `${PE_HOST}/ns/app`, '--api-version', 'v2'] }), /api-version/);
      const blank = await run({ args: ['get-credentials', '   '] });
      assertOneLineFailure(blank);
      assertNoStackTrace(blank.stderr);
    }));
});
