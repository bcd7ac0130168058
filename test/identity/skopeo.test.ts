// End to end with real third-party software: skopeo (containers/image) configured with
// credHelpers finds `docker-credential-aliyun-acr` on PATH and pulls from a real registry
// (Debian's docker-registry, distribution v2) behind an auth proxy that accepts exactly the
// tokens the emulated CR API issued. Without the helper, the same pull gets 401.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { startRegistryAuthProxy } from '../emulators/registry-auth-proxy.ts';
import { withCloud } from '../helpers/cloud.ts';
import { writeConfig } from '../helpers/run-provider.ts';
import { helperBin } from './fixtures.ts';

const tools = ['skopeo', 'docker-registry', 'tar'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = tools.length ? `not installed: ${tools.join(', ')} (.ci/run installs them)` : false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A one-layer OCI image layout on disk, tagged v1. */
function ociLayout(dir: string): string {
  const layout = join(dir, 'oci');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  writeFileSync(join(rootfs, 'hello.txt'), 'hello from the emulated ACR\n');
  const layerPath = join(dir, 'layer.tar.gz');
  assert.equal(spawnSync('tar', ['-czf', layerPath, '-C', rootfs, '.']).status, 0);
  const put = (data: Buffer): { digest: string; size: number } => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const layerGz = readFileSync(layerPath);
  const layer = put(layerGz);
  const diffId = `sha256:${createHash('sha256').update(gunzipSync(layerGz)).digest('hex')}`;
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] } })));
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    ),
  );
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }),
  );
  return layout;
}

function skopeo(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('skopeo', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('skopeo with credHelpers, through docker-credential-aliyun-acr', { skip }, () => {
  it('pulls from a registry that accepts only emulator-issued tokens; 401 without the helper', { timeout: 120_000 }, () =>
    withCloud(async (c) => {
      const inst = c.e.state.addInstance({ regionId: 'cn-hangzhou', instanceName: 'acme' });
      // The real registry, no auth of its own, on 127.0.0.1 only.
      const regPort = await freePort();
      const regConfig = join(c.dir, 'registry.yml');
      writeFileSync(regConfig, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(c.dir, 'registry-data')}\nhttp:\n  addr: 127.0.0.1:${regPort}\n`);
      const registry: ChildProcess = spawn('docker-registry', ['serve', regConfig], { stdio: 'ignore' });
      const proxy = await startRegistryAuthProxy({ state: c.e.state, upstream: `http://127.0.0.1:${regPort}`, instanceId: inst.instanceId });
      try {
        await waitFor(`http://127.0.0.1:${regPort}/v2/`, 15_000);
        const home = join(c.dir, 'home');
        mkdirSync(home);
        const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: home };
        // Seed the registry directly (behind the proxy's back).
        const seeded = await skopeo(['copy', '--insecure-policy', '--dest-tls-verify=false', `oci:${ociLayout(c.dir)}:v1`, `docker://127.0.0.1:${regPort}/team/app:v1`], baseEnv);
        assert.equal(seeded.code, 0, seeded.stderr);

        // The provider knows the proxy's host:port as a custom domain of the instance.
        const config = writeConfig(c.dir, c.e, { registries: [{ domains: [proxy.host], instanceId: inst.instanceId, regionId: 'cn-hangzhou' }] }, 'skopeo.json');
        const bin = helperBin(c.dir);
        // The bundle's shebang is "#!/usr/bin/env node": let it find the Node running this test.
        symlinkSync(process.execPath, join(bin, 'node'));
        const env = { ...baseEnv, PATH: `${bin}:${baseEnv.PATH}`, ALIYUN_ACR_CREDENTIAL_PROVIDER_CONFIG: config };
        const withHelper = join(c.dir, 'auth.json');
        writeFileSync(withHelper, JSON.stringify({ credHelpers: { [proxy.host]: 'aliyun-acr' } }));
        const without = join(c.dir, 'no-auth.json');
        writeFileSync(without, '{}');
        const ref = `docker://${proxy.host}/team/app:v1`;

        const denied = await skopeo(['inspect', '--tls-verify=false', '--authfile', without, ref], env);
        assert.notEqual(denied.code, 0, 'no credentials: no pull');
        assert.match(denied.stderr, /401|unauthorized|authentication required/i);

        const inspected = await skopeo(['inspect', '--tls-verify=false', '--authfile', withHelper, ref], env);
        assert.equal(inspected.code, 0, inspected.stderr);
        assert.equal((JSON.parse(inspected.stdout) as { Layers: string[] }).Layers.length, 1);
        const out = join(c.dir, 'pulled');
        const copied = await skopeo(['copy', '--insecure-policy', '--src-tls-verify=false', '--authfile', withHelper, ref, `dir:${out}`], env);
        assert.equal(copied.code, 0, copied.stderr);
        assert.ok(readFileSync(join(out, 'manifest.json'), 'utf8').includes('schemaVersion'));
        // One token for both skopeo runs: the second helper call was a cache hit.
        assert.equal(c.e.state.issuedTokens().length, 1);
        assert.ok(c.e.calls({ server: 'registry' }).some((r) => r.status === 200), 'the registry served authorized requests');
      } finally {
        registry.kill('SIGTERM');
        await proxy.close();
      }
    }));
});
