// `install` onto a node with no C library at all (test/packaging/host-tree.ts: a static busybox
// /bin/sh, empty /proc, /dev and /tmp, and a kubeadm kubelet's unit files): the real payload of
// npm run build:binary goes in behind the wrapper, its smoke test runs it with chroot into the
// tree exactly as the kubelet would (the fake nsenter, test/install/fixtures/bin), and afterwards
// `chroot <host> <bin dir>/aliyun-acr-credential-provider` answers a kubelet request. arm64 the
// same under qemu-user. A payload whose smoke test fails (a library left out) or of the wrong
// architecture leaves the node byte-identical, with the error shown.
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeManifest } from '../../src/payload/manifest.ts';
import { kubeletRequest } from '../helpers/run-provider.ts';
import { ensurePayloads, payloadDirOf } from '../binary/build-outputs.ts';
import { FakeNode, runCli } from '../install/fake-node.ts';
import { cleanup, kubeadmDebian, snapshot, tempDir, writeTree } from '../install/helpers.ts';
import { providerPeakRssKib, SMOKE_PROVIDER_PEAK_MIB } from '../install/rss-scenarios.ts';
import { BIN_DIR, buildHostTree, cannotRun, NODE_CONFIG, runInTree, WRAPPER, type Arch, type HostTree } from './host-tree.ts';

const NOT_ACR_IMAGE = 'docker.io/library/nginx';

let node: FakeNode;
before(async () => {
  if (!cannotRun('amd64') || !cannotRun('arm64')) await ensurePayloads();
  node = await FakeNode.start();
});
after(async () => {
  await node?.close();
  cleanup();
});

/** A no-libc node with a kubeadm kubelet's unit files (nothing installed). */
function kubeadmNode(arch: Arch): HostTree {
  const tree = buildHostTree(arch, { bare: true });
  writeTree(tree.root, kubeadmDebian());
  return tree;
}

/** The payload of `arch` without `library` (hard links; the manifest rewritten without it). */
function payloadWithout(arch: Arch, library: string): string {
  const from = payloadDirOf(arch);
  const dir = join(tempDir('acr-broken-payload-'), 'payload');
  const manifest = JSON.parse(readFileSync(join(from, 'manifest.json'), 'utf8'));
  manifest.files = manifest.files.filter((f: { path: string }) => f.path !== `lib/${library}`);
  for (const f of manifest.files as { path: string }[]) {
    mkdirSync(join(dir, f.path, '..'), { recursive: true });
    linkSync(join(from, f.path), join(dir, f.path));
  }
  writeFileSync(join(dir, 'manifest.json'), encodeManifest(manifest));
  return dir;
}

const install = (tree: HostTree, payload: string) => runCli(node, ['install', '--host-root', tree.root, '--payload', payload, '--configure-kubelet', ...node.flags('5s')]);

/** Every file outside the install base and the state directory, as paths inside the tree. */
function files(tree: HostTree, dir = '/'): string[] {
  const out: string[] = [];
  for (const e of readdirSync(tree.at(dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (['/proc', '/dev', `${BIN_DIR}/.aliyun-acr-credential-provider`].includes(p)) continue;
    if (e.isDirectory()) out.push(...files(tree, p));
    else out.push(p);
  }
  return out;
}

for (const arch of ['amd64', 'arm64'] as Arch[]) {
  describe(`${arch}: install on a node with no C library`, { skip: cannotRun(arch) }, () => {
    it('installs the payload behind the wrapper; chroot <host> <bin dir>/aliyun-acr-credential-provider answers a kubelet request', async () => {
      const tree = kubeadmNode(arch);
      try {
        const r = await install(tree, payloadDirOf(arch));
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /the provider passed its smoke test; restarted kubelet\.service, healthy/);
        const answer = await runInTree(tree, [WRAPPER, '--config', NODE_CONFIG], { input: kubeletRequest(NOT_ACR_IMAGE) });
        assert.equal(answer.code, 0, answer.stderr);
        assert.deepEqual(JSON.parse(answer.stdout), { kind: 'CredentialProviderResponse', apiVersion: 'credentialprovider.kubelet.k8s.io/v1', cacheKeyType: 'Image', cacheDuration: JSON.parse(answer.stdout).cacheDuration });
        assert.match(JSON.parse(answer.stdout).cacheDuration, /^\d+(h|m|s)/);
        // Still no C library outside the provider's own directory.
        assert.ok(!files(tree).some((f) => /\/(libc\.so\.6|ld-linux[^/]*)$/.test(f)), files(tree).join(' '));
      } finally {
        tree.remove();
      }
    });
  });
}

describe('amd64: the smoke test\'s provider', { skip: cannotRun('amd64') }, () => {
  it(`peaks under ${SMOKE_PROVIDER_PEAK_MIB} MiB (it runs in the install container's cgroup: packaging/deploy sets the limit from this)`, async () => {
    const config = join(tempDir('acr-smoke-rss-'), 'config.json');
    writeFileSync(config, '{}\n');
    const kib = await providerPeakRssKib([join(payloadDirOf('amd64'), 'aliyun-acr-credential-provider')], config);
    assert.ok(kib < SMOKE_PROVIDER_PEAK_MIB * 1024, `peak RSS ${Math.round(kib / 1024)} MiB`);
  });
});

describe('amd64: a payload that cannot run on the node leaves it byte-identical', { skip: cannotRun('amd64') }, () => {
  it('a library left out of the payload: the smoke test shows the loader\'s error; nothing of the kubelet changed', async () => {
    const tree = kubeadmNode('amd64');
    try {
      const before = snapshot(tree.root);
      const calls = node.calls().length;
      const r = await install(tree, payloadWithout('amd64', 'libstdc++.so.6'));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /error: the installed provider failed its smoke test: \S+\/aliyun-acr-credential-provider --version exited 127: \S+: error while loading shared libraries: libstdc\+\+\.so\.6: cannot open shared object file: No such file or directory; its payload directory lacks a library the binary needs: reinstall from an intact image\. Nothing of the kubelet was changed and the installed files were rolled back/);
      assert.equal(r.stderr.trim().split('\n').filter((l) => l.includes('error:')).length, 1);
      assert.deepEqual(snapshot(tree.root), before);
      assert.ok(!node.calls().slice(calls).some((c) => c.startsWith('systemctl')), 'no daemon-reload, no restart');
    } finally {
      tree.remove();
    }
  });

  it('the payload of another architecture: refused before anything is written, with what to deploy', { skip: cannotRun('arm64') }, async () => {
    const tree = kubeadmNode('amd64');
    try {
      const before = snapshot(tree.root);
      const r = await install(tree, payloadDirOf('arm64'));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /error: the payload is for arm64 but this node runs amd64 \(its \/bin\/sh\); deploy the image of the node's architecture/);
      assert.deepEqual(snapshot(tree.root), before);
    } finally {
      tree.remove();
    }
  });
});
