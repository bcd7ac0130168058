// `doctor` through the built CLI, against the emulators and fake host trees (a /proc with a
// kubelet command line, flag files, a CredentialProviderConfig file or 1.34 directory, the
// provider binary in the bin dir). Each case checks the report line that matters, the exit
// code, and that no secret reached stdout or stderr.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertNoSecretsIn, NODE_IDENTITY, secretsOf, withCloud, type Cloud } from '../helpers/cloud.ts';
import { assertNoStackTrace, writeConfig, type RunResult } from '../helpers/run-provider.ts';

interface Report {
  ok: boolean;
  checks: Array<{ id: string; status: string; message: string }>;
}

const PROVIDER = 'aliyun-acr-credential-provider';
const EE = 'acme-registry.cn-hangzhou.cr.aliyuncs.com';

interface HostTree {
  /** kubelet flags: through /proc (default), a kubeadm env file, or nowhere. */
  flagsVia?: 'proc' | 'env-file' | 'none';
  /** CredentialProviderConfig as one file or a directory (1.34+). */
  layout?: 'file' | 'dir';
  matchImages?: string[];
  binary?: 'ok' | 'not-executable' | 'missing';
  providerName?: string;
}

function hostTree(root: string, t: HostTree = {}): string {
  const configPath = t.layout === 'dir' ? '/etc/kubernetes/credential-providers' : '/etc/kubernetes/credential-provider-config.yaml';
  const binDir = '/usr/local/bin/credential-provider';
  const flags = [`--image-credential-provider-config=${configPath}`, '--image-credential-provider-bin-dir', binDir];
  if ((t.flagsVia ?? 'proc') === 'proc') {
    mkdirSync(join(root, 'proc', '4242'), { recursive: true });
    writeFileSync(join(root, 'proc', '4242', 'cmdline'), ['/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml', ...flags, ''].join('\0'));
    mkdirSync(join(root, 'proc', '77'), { recursive: true });
    writeFileSync(join(root, 'proc', '77', 'cmdline'), ['/usr/bin/containerd', ''].join('\0'));
  } else if (t.flagsVia === 'env-file') {
    mkdirSync(join(root, 'var/lib/kubelet'), { recursive: true });
    writeFileSync(join(root, 'var/lib/kubelet/kubeadm-flags.env'), `KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock ${flags[0]} --image-credential-provider-bin-dir=${binDir}"\n`);
  }
  const provider = {
    name: t.providerName ?? PROVIDER,
    matchImages: t.matchImages ?? ['*.*.cr.aliyuncs.com', 'registry.*.aliyuncs.com', 'registry-vpc.*.aliyuncs.com'],
    defaultCacheDuration: '30m',
    apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
  };
  if (t.layout === 'dir') {
    mkdirSync(join(root, configPath), { recursive: true });
    writeFileSync(join(root, configPath, '10-other.yaml'), 'apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: ecr-credential-provider\n    matchImages: ["*.dkr.ecr.*.amazonaws.com"]\n    defaultCacheDuration: 12h\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n');
    writeFileSync(join(root, configPath, '20-acr.json'), JSON.stringify({ apiVersion: 'kubelet.config.k8s.io/v1', kind: 'CredentialProviderConfig', providers: [provider] }));
    writeFileSync(join(root, configPath, 'README.txt'), 'not a config');
  } else {
    mkdirSync(join(root, '/etc/kubernetes'), { recursive: true });
    writeFileSync(join(root, configPath), JSON.stringify({ apiVersion: 'kubelet.config.k8s.io/v1', kind: 'CredentialProviderConfig', providers: [provider] }));
  }
  if ((t.binary ?? 'ok') !== 'missing') {
    mkdirSync(join(root, binDir), { recursive: true });
    writeFileSync(join(root, binDir, PROVIDER), '#!/bin/sh\n');
    chmodSync(join(root, binDir, PROVIDER), t.binary === 'not-executable' ? 0o644 : 0o755);
  }
  return root;
}

async function doctor(c: Cloud, args: string[], tree: HostTree = {}, name = 'host'): Promise<{ r: RunResult; report: Report }> {
  const root = hostTree(join(c.dir, name), tree);
  const r = await c.run({ args: ['doctor', '--output', 'json', '--host-root', root, ...args] });
  assertNoStackTrace(r.stderr);
  assert.ok([0, 1].includes(r.code ?? -1), `exit 0 or 1, got ${r.code}: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(r.code, report.ok ? 0 : 1, 'exit code follows the report');
  assert.equal(report.ok, !report.checks.some((x) => x.status === 'fail'));
  return { r, report };
}

function check(report: Report, id: string): { status: string; message: string } {
  const found = report.checks.find((x) => x.id === id);
  assert.ok(found, `no check ${id} in ${report.checks.map((x) => x.id).join(', ')}`);
  return found;
}

function noSecrets(c: Cloud, r: RunResult): void {
  const secrets = secretsOf(c.e);
  assert.ok(secrets.length > 0, 'the emulator issued secrets to look for');
  assertNoSecretsIn('doctor stdout', r.stdout, secrets);
  assertNoSecretsIn('doctor stderr', r.stderr, secrets);
}

describe('doctor', { concurrency: 2 }, () => {
  it('a RAM policy scoped to the instance: GetAuthorizationToken is probed with that instance and reported allowed for it', () =>
    withCloud(async (c) => {
      const inst = c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      c.e.state.allowOnlyInstances(NODE_IDENTITY, 'GetAuthorizationToken', [inst.instanceId]);
      c.e.state.allowOnlyInstances(NODE_IDENTITY, 'ListInstanceEndpoint', [inst.instanceId]);
      const { r, report } = await doctor(c, ['--image', `${EE}/team/app:v1`]);
      assert.equal(report.ok, true, r.stdout);
      const p = check(report, 'permission.cr:GetAuthorizationToken');
      assert.equal(p.status, 'pass');
      assert.match(p.message, new RegExp(`allowed for ${inst.instanceId}`));
      assert.equal(check(report, 'permission.cr:ListInstanceEndpoint').status, 'pass');
      assert.equal(c.e.state.issuedTokens().length, 1, 'no token minted for the probe alone');
    }));

  it('a RAM policy scoped to another instance: denied for this one, naming it', () =>
    withCloud(async (c) => {
      const inst = c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      c.e.state.allowOnlyInstances(NODE_IDENTITY, 'GetAuthorizationToken', ['cri-someotherinstance']);
      const { report } = await doctor(c, ['--image', `${EE}/team/app:v1`]);
      const p = check(report, 'permission.cr:GetAuthorizationToken');
      assert.equal(p.status, 'fail');
      assert.match(p.message, new RegExp(`denied for ${inst.instanceId}`));
      assert.equal(check(report, `token.${EE}`).status, 'fail');
    }));

  it('no instance to probe with (no --image, no registries): a made-up id, and a denial of it is only a warning', () =>
    withCloud(async (c) => {
      c.e.state.allowOnlyInstances(NODE_IDENTITY, 'GetAuthorizationToken', ['cri-onlythisone']);
      const { report } = await doctor(c, []);
      const p = check(report, 'permission.cr:GetAuthorizationToken');
      assert.equal(p.status, 'warn');
      assert.match(p.message, /made-up instance id/);
      assert.match(p.message, /--image/);
    }));

  it('a Personal Edition image: its own token call tells whether GetAuthorizationToken is allowed', () =>
    withCloud(async (c) => {
      const { report } = await doctor(c, ['--image', 'registry.cn-hangzhou.aliyuncs.com/ns/app']);
      const p = check(report, 'permission.cr:GetAuthorizationToken');
      assert.equal(p.status, 'pass');
      assert.match(p.message, /allowed for Personal Edition \(cn-hangzhou/);
      assert.equal(c.e.state.issuedTokens().length, 1, 'the image\'s token only');
    }));

  it('a built-in host listed in registries only for policy resolves as the provider resolves it (by name, in its own region)', () =>
    withCloud(
      async (c) => {
        const inst = c.e.state.addInstance({ regionId: 'cn-shanghai', instanceName: 'acme' });
        const host = 'acme-registry.cn-shanghai.cr.aliyuncs.com';
        const { report } = await doctor(c, ['--image', `${host}/x`]);
        assert.match(check(report, `instance.${host}`).message, new RegExp(`instance name "acme" resolves to ${inst.instanceId} in cn-shanghai`));
        assert.equal(check(report, `token.${host}`).status, 'pass');
      },
      { config: { registries: [{ domains: ['acme-registry.cn-shanghai.cr.aliyuncs.com'], identity: 'node' }] } },
    ));

  it('an instanceId entry for a built-in host without regionId uses the host\'s region, as the provider does', () =>
    withCloud(async (c) => {
      const inst = c.e.state.addInstance({ regionId: 'cn-shanghai', instanceName: 'acme' });
      const host = 'acme-registry.cn-shanghai.cr.aliyuncs.com';
      const config = writeConfig(c.dir, c.e, { registries: [{ domains: [host], instanceId: inst.instanceId }] }, 'with-id.json');
      const root = hostTree(join(c.dir, 'host'));
      const r = await c.run({ args: ['doctor', '--output', 'json', '--host-root', root, '--config', config, '--image', `${host}/x`] });
      const report = JSON.parse(r.stdout) as Report;
      assert.match(check(report, `instance.${host}`).message, new RegExp(`${inst.instanceId} \\(configured\\) in cn-shanghai`));
      assert.equal(check(report, `token.${host}`).status, 'pass');
    }));

  it('a crpi- host: the same message as the provider gives', () =>
    withCloud(async (c) => {
      const host = 'crpi-abc123xyz.cn-hangzhou.personal.cr.aliyuncs.com';
      const provider = await c.request(`${host}/ns/app`);
      const line = provider.stderr.trim().replace(/^aliyun-acr-credential-provider: error: /, '');
      const { report } = await doctor(c, ['--image', `${host}/ns/app`]);
      const t = check(report, `token.${host}`);
      assert.equal(t.status, 'fail');
      assert.equal(t.message, line);
    }));


  it('a healthy node: every check passes, a token is obtained and never printed', () =>
    withCloud(async (c) => {
      const inst = c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      c.e.imds.setMode('required');
      const { r, report } = await doctor(c, ['--image', `${EE}/team/app:v1`]);
      assert.equal(report.ok, true, r.stdout);
      assert.match(check(report, 'metadata').message, /hardened mode/);
      assert.match(check(report, 'ram-role').message, /acr-node-role.*expire at/);
      assert.match(check(report, 'region').message, /cn-hangzhou/);
      assert.equal(check(report, 'cr-endpoint.cn-hangzhou').status, 'pass');
      for (const a of ['ListInstance', 'ListInstanceEndpoint', 'GetAuthorizationToken']) assert.equal(check(report, `permission.cr:${a}`).status, 'pass', a);
      assert.match(check(report, `instance.${EE}`).message, new RegExp(inst.instanceId));
      assert.match(check(report, `token.${EE}`).message, /token obtained.*not shown/);
      assert.equal(check(report, 'kubelet.flags').status, 'pass');
      assert.match(check(report, 'kubelet.flags').message, /kubelet process 4242/);
      assert.equal(check(report, 'kubelet.provider-config').status, 'pass');
      assert.equal(check(report, 'kubelet.binary').status, 'pass');
      assert.equal(check(report, 'kubelet.match-images').status, 'pass');
      assert.equal(c.e.state.issuedTokens().filter((t) => t.instanceId === inst.instanceId).length, 1, 'one real token, for the image');
      noSecrets(c, r);
    }));

  it('text output: one line per check with PASS/WARN/FAIL/SKIP and a verdict', () =>
    withCloud(async (c) => {
      const root = hostTree(join(c.dir, 'host'));
      const r = await c.run({ args: ['doctor', '--host-root', root, '--image', 'registry.cn-hangzhou.aliyuncs.com/ns/app'] });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /doctor/);
      assert.match(lines.at(-1)!, /^OK: \d+ passed, \d+ warnings, 0 failed/);
      for (const l of lines.slice(1, -1)) assert.match(l, /^(PASS|WARN|FAIL|SKIP) {2}\S+ +\S/, l);
      assert.ok(lines.some((l) => /^PASS {2}token\.registry\.cn-hangzhou\.aliyuncs\.com /.test(l)));
      noSecrets(c, r);
    }));

  it('a denied RAM action fails, naming the action; the others still pass', () =>
    withCloud(async (c) => {
      c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      c.e.state.denyAction(NODE_IDENTITY, 'ListInstanceEndpoint');
      const { report } = await doctor(c, ['--image', `${EE}/x`]);
      assert.equal(report.ok, false);
      const denied = check(report, 'permission.cr:ListInstanceEndpoint');
      assert.equal(denied.status, 'fail');
      assert.match(denied.message, /cr:ListInstanceEndpoint/);
      assert.equal(check(report, 'permission.cr:ListInstance').status, 'pass');
      assert.equal(check(report, `token.${EE}`).status, 'pass', 'this image does not need the denied action');
    }));

  it('GetAuthorizationToken denied: the permission and the token checks fail, naming the action', () =>
    withCloud(async (c) => {
      c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      c.e.state.denyAction(NODE_IDENTITY, 'GetAuthorizationToken');
      const { report } = await doctor(c, ['--image', `${EE}/x`]);
      assert.equal(check(report, 'permission.cr:GetAuthorizationToken').status, 'fail');
      assert.match(check(report, 'permission.cr:GetAuthorizationToken').message, /cr:GetAuthorizationToken/);
      assert.equal(check(report, `token.${EE}`).status, 'fail');
    }));

  it('no RAM role attached: the role check fails and says so; v1-only metadata is a warning', () =>
    withCloud(
      async (c) => {
        const { report } = await doctor(c, ['--image', `${EE}/x`]);
        assert.equal(check(report, 'metadata').status, 'warn');
        assert.match(check(report, 'metadata').message, /v1 mode/);
        assert.equal(check(report, 'ram-role').status, 'fail');
        assert.match(check(report, 'ram-role').message, /no RAM role is attached/);
      },
      { roleName: null, imdsMode: 'unsupported' },
    ));

  it('an Enterprise-form host of another account: a warning with what to do, not a failure (the provider answers without credentials)', () =>
    withCloud(async (c) => {
      const { report } = await doctor(c, ['--image', `${EE}/x`]);
      assert.equal(report.ok, true);
      const inst = check(report, `instance.${EE}`);
      assert.equal(inst.status, 'warn');
      assert.match(inst.message, /no Enterprise Edition instance named "acme" in cn-hangzhou/);
      assert.match(inst.message, /anonymously/);
      assert.match(inst.message, /assumeRole/);
      assert.equal(check(report, `token.${EE}`).status, 'skip');
    }));

  it('every configured registry is checked when no --image is given', () =>
    withCloud(
      async (c) => {
        const inst = c.e.state.addInstance({ regionId: 'cn-shanghai', instanceName: 'corp', userDomains: ['registry.corp.example'] });
        const { report } = await doctor(c, [], { matchImages: ['registry.corp.example', '*.*.cr.aliyuncs.com'] });
        assert.match(check(report, 'instance.registry.corp.example').message, new RegExp(`custom domain resolves to ${inst.instanceId} in cn-shanghai`));
        assert.equal(check(report, 'token.registry.corp.example').status, 'pass');
        assert.equal(check(report, 'kubelet.match-images').status, 'pass');
      },
      { config: { registries: [{ domains: ['registry.corp.example'], regionId: 'cn-shanghai' }] } },
    ));

  it("matchImages that miss the image under the kubelet's rules fail, with a pattern that would work", () =>
    withCloud(async (c) => {
      const { report } = await doctor(c, ['--image', 'registry.cn-hangzhou.aliyuncs.com/ns/app'], { matchImages: ['*.aliyuncs.com', 'registry.cn-hangzhou.aliyuncs.com:443'] });
      const m = check(report, 'kubelet.match-images');
      assert.equal(m.status, 'fail');
      assert.match(m.message, /do not match registry\.cn-hangzhou\.aliyuncs\.com\/ns\/app/);
      assert.match(m.message, /\*\.cn-hangzhou\.aliyuncs\.com/);
    }));

  it('flags from kubeadm-flags.env and a 1.34 config directory; a non-executable binary fails', () =>
    withCloud(async (c) => {
      const { report } = await doctor(c, ['--image', 'registry.cn-hangzhou.aliyuncs.com/ns/app'], { flagsVia: 'env-file', layout: 'dir', binary: 'not-executable' });
      assert.match(check(report, 'kubelet.flags').message, /kubeadm-flags\.env/);
      assert.match(check(report, 'kubelet.provider-config').message, /20-acr\.json/);
      assert.equal(check(report, 'kubelet.binary').status, 'fail');
      assert.match(check(report, 'kubelet.binary').message, /not executable/);
      assert.equal(check(report, 'kubelet.match-images').status, 'pass');
    }));

  it('no entry for the provider in the CredentialProviderConfig fails; no kubelet at all is a warning', () =>
    withCloud(async (c) => {
      const { report } = await doctor(c, ['--image', 'registry.cn-hangzhou.aliyuncs.com/ns/app'], { providerName: 'something-else' });
      assert.equal(check(report, 'kubelet.provider-config').status, 'fail');
      assert.match(check(report, 'kubelet.provider-config').message, /no provider named "aliyun-acr-credential-provider"/);
      const none = await doctor(c, ['--image', 'registry.cn-hangzhou.aliyuncs.com/ns/app'], { flagsVia: 'none' }, 'bare');
      assert.equal(check(none.report, 'kubelet.flags').status, 'warn');
    }));

  it('a missing binary in the bin dir fails', () =>
    withCloud(async (c) => {
      const { report } = await doctor(c, ['--image', 'registry.cn-hangzhou.aliyuncs.com/ns/app'], { binary: 'missing' });
      assert.match(check(report, 'kubelet.binary').message, /does not exist/);
    }));

  it('cache directory: 0700/0600 passes after a real invocation; a 0644 file or a 0755 directory fails', () =>
    withCloud(async (c) => {
      assert.equal((await c.request('registry.cn-hangzhou.aliyuncs.com/ns/app')).code, 0);
      // The cache directory is a path on this machine: no --host-root here.
      const cacheCheck = async () => {
        const r = await c.run({ args: ['doctor', '--output', 'json'] });
        return check(JSON.parse(r.stdout) as Report, 'cache-dir');
      };
      assert.equal((await cacheCheck()).status, 'pass');
      writeFileSync(join(c.cacheDir, 'planted'), 'x');
      chmodSync(join(c.cacheDir, 'planted'), 0o644);
      let cache = await cacheCheck();
      assert.equal(cache.status, 'fail');
      assert.match(cache.message, /planted has mode 644, expected 600/);
      chmodSync(c.cacheDir, 0o755);
      cache = await cacheCheck();
      assert.match(cache.message, /mode 755, expected 700/);
    }));

  it('cache directory: one the provider refuses (inside a directory another user owns) fails with the provider\'s own reason', () =>
    withCloud(async (c) => {
      const userDir = join(c.dir, 'user-owned');
      mkdirSync(userDir, { mode: 0o755 });
      chownSync(userDir, 1000, 1000);
      const cacheDir = join(userDir, 'cache');
      mkdirSync(cacheDir, { mode: 0o700 });
      const served = await c.request('registry.cn-hangzhou.aliyuncs.com/ns/app', { args: ['--cache-dir', cacheDir] });
      const refusal = /is inside \S+user-owned, which is owned by uid 1000/;
      assert.match(served.stderr, refusal, 'the provider refuses it');
      const r = await c.run({ args: ['doctor', '--output', 'json', '--cache-dir', cacheDir] });
      const cache = check(JSON.parse(r.stdout) as Report, 'cache-dir');
      assert.equal(cache.status, 'fail');
      assert.match(cache.message, refusal);
    }));

  it('--check-registry: 200 from the registry passes, 401 fails as "token refused"', () =>
    withCloud(async (c) => {
      c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      let refuseAll = false;
      const server: Server = createServer((req, res) => {
        const auth = req.headers.authorization ?? '';
        const [user, pass] = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString().split(':');
        const ok = !refuseAll && req.url === '/v2/' && c.e.state.validateRegistryToken(user ?? '', pass ?? '') !== undefined;
        res.writeHead(ok ? 200 : 401).end('{}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const args = ['--image', `${EE}/x`, '--check-registry', '--registry-endpoint', `${EE}=${url}`];
        const good = await doctor(c, args);
        assert.equal(check(good.report, `registry.${EE}`).status, 'pass');
        refuseAll = true;
        const bad = await doctor(c, args, {}, 'host2');
        assert.equal(check(bad.report, `registry.${EE}`).status, 'fail');
        assert.match(check(bad.report, `registry.${EE}`).message, /401, the registry refused the token/);
        noSecrets(c, bad.r);
      } finally {
        server.close();
      }
    }));

  it('an unreachable CR API endpoint fails with what to do', () =>
    withCloud(
      async (c) => {
        const { report } = await doctor(c, ['--image', 'registry.cn-hangzhou.aliyuncs.com/ns/app']);
        assert.equal(check(report, 'cr-endpoint.cn-hangzhou').status, 'fail');
        assert.match(check(report, 'cr-endpoint.cn-hangzhou').message, /unreachable/);
      },
      { config: { cr: { endpoint: { 'cn-hangzhou': 'http://127.0.0.1:9' } } } },
    ));
});
