// Uninstall on nodes that drifted after install: it removes exactly what install added (our flags
// from whatever the flags file holds now, our entry from whatever the shared config holds now),
// deletes a file only when nothing left refers to it, never puts a stale snapshot over newer
// content, and changes nothing (saying what to do) when it cannot be done safely.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runInstall } from '../../src/install/install.ts';
import { runUninstall } from '../../src/install/uninstall.ts';
import { ACK_ARGS, ackNode, cleanup, context, fakeState, inputs, k3sNode, kubeadmDebian, makeHost, readHost, readState, rejects, snapshot, writeTree, type FakeHost } from './helpers.ts';
import { fakePayload } from './fake-payload.ts';

after(cleanup);

const OURS = 'aliyun-acr-credential-provider';
const FLAGS = '--image-credential-provider-config=/etc/kubernetes/credential-provider/config.yaml --image-credential-provider-bin-dir=/etc/kubernetes/credential-provider/bin';
const CP_CONFIG = '/etc/kubernetes/credential-provider/config.yaml';
const CP_BIN = `/etc/kubernetes/credential-provider/bin/${OURS}`;
const NODE_CONFIG = '/etc/kubernetes/aliyun-acr-credential-provider/config.json';
const OTHER_ENTRY = '  - name: other\n    matchImages: ["example.com"]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n';

async function install(root: string, host: FakeHost, extra: Parameters<typeof inputs>[1] = {}) {
  const c = context(root, host);
  await runInstall(c.ctx, inputs(fakePayload(), extra));
  return c;
}

async function uninstall(root: string, host: FakeHost) {
  const c = context(root, host);
  await runUninstall(c.ctx);
  return c;
}

/**
 * What a kubelet started now would need from the files: every --image-credential-provider-config
 * it gets exists and parses, and each provider it names has an executable in the bin dir.
 */
function assertKubeletWouldStart(root: string, flagsFile: string): void {
  const text = readHost(root, flagsFile);
  const config = /--image-credential-provider-config=(\S+?)["\s]/.exec(text)?.[1];
  const binDir = /--image-credential-provider-bin-dir=(\S+?)["\s]/.exec(text)?.[1];
  if (config === undefined && binDir === undefined) return;
  assert.ok(config && binDir, `both flags or neither: ${text}`);
  assert.ok(existsSync(join(root, config)), `${config} is missing but the kubelet flags name it`);
  const doc = parse(readFileSync(join(root, config), 'utf8')) as { providers: { name: string }[] };
  assert.ok(doc.providers.length > 0, 'a config with no providers stops the kubelet');
  for (const p of doc.providers) assert.ok(existsSync(join(root, binDir, p.name)), `provider ${p.name} has no executable in ${binDir}`);
}

describe('uninstall after the node drifted', () => {
  it('config management rewrote /etc/default/kubelet and install re-added the flags: the later edits stay', async () => {
    const root = makeHost(kubeadmDebian());
    const host = fakeState({});
    await install(root, host);
    writeTree(root, { '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS=--v=4\nNODE_IP=10.0.0.5\n' });
    await install(root, host);
    assert.equal(readHost(root, '/etc/default/kubelet'), `KUBELET_EXTRA_ARGS=--v=4 ${FLAGS}\nNODE_IP=10.0.0.5\n`);
    await uninstall(root, host);
    assert.equal(readHost(root, '/etc/default/kubelet'), 'KUBELET_EXTRA_ARGS=--v=4\nNODE_IP=10.0.0.5\n');
    assert.ok(!existsSync(join(root, CP_CONFIG)) && !existsSync(join(root, CP_BIN)));
  });

  it("ACK rewrote kubelet-customized-args.conf and install re-added the flags: ACK's new flags stay", async () => {
    const root = makeHost(ackNode());
    const host = fakeState({});
    await install(root, host);
    const rewritten = 'KUBELET_CUSTOMIZED_ARGS=" --eviction-hard=memory.available<500Mi --max-pods=64 "\n';
    writeTree(root, { '/etc/kubernetes/kubelet-customized-args.conf': rewritten });
    await install(root, host);
    await uninstall(root, host);
    assert.equal(readHost(root, '/etc/kubernetes/kubelet-customized-args.conf'), rewritten);
  });

  it('the flags file was edited after install: our flags are removed from it, the edit stays, the kubelet would start', async () => {
    const root = makeHost(kubeadmDebian());
    const host = fakeState({});
    await install(root, host);
    writeTree(root, { '/etc/default/kubelet': `# tuned by ops\nKUBELET_EXTRA_ARGS=${FLAGS} --v=4\nFOO=bar\n` });
    await uninstall(root, host);
    assert.equal(readHost(root, '/etc/default/kubelet'), '# tuned by ops\nKUBELET_EXTRA_ARGS=--v=4\nFOO=bar\n');
    assertKubeletWouldStart(root, '/etc/default/kubelet');
    assert.ok(!existsSync(join(root, CP_CONFIG)));
    assert.deepEqual(readState(host).restarts, ['kubelet.service', 'kubelet.service']);
  });

  it("another provider's entry in the shared config was edited: our entry is removed, theirs stays as edited, our binary goes", async () => {
    const shared = `apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n${OTHER_ENTRY}`;
    const root = makeHost(kubeadmDebian({
      '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--image-credential-provider-config=/etc/kubernetes/cp.yaml --image-credential-provider-bin-dir=/opt/cp"\n',
      '/etc/kubernetes/cp.yaml': shared,
      '/opt/cp/other': { content: '#!/bin/sh\n', mode: 0o755 },
    }));
    const host = fakeState({});
    await install(root, host);
    const edited = readHost(root, '/etc/kubernetes/cp.yaml').replace('defaultCacheDuration: 1m', 'defaultCacheDuration: 5m');
    writeTree(root, { '/etc/kubernetes/cp.yaml': edited });
    await uninstall(root, host);
    const ourBlock = /  - name: aliyun-acr-credential-provider\n(?: {4}.*\n)*/;
    assert.match(edited, ourBlock);
    assert.equal(readHost(root, '/etc/kubernetes/cp.yaml'), edited.replace(ourBlock, ''), 'only our entry is cut out; every other byte stays');
    assert.ok(!existsSync(join(root, '/opt/cp', OURS)));
    assertKubeletWouldStart(root, '/etc/default/kubelet');
  });

  it('the ConfigMap was edited (sync-config rewrote config.json): config.json is removed all the same', async () => {
    const root = makeHost(kubeadmDebian());
    const before = snapshot(root);
    const host = fakeState({});
    await install(root, host);
    writeTree(root, { [NODE_CONFIG]: '{\n  "expiringThreshold": "20m"\n}\n' });
    await uninstall(root, host);
    assert.deepEqual(snapshot(root), before);
  });

  it('another provider was added to the config install created: flags, file and their binary stay; our entry and binary go', async () => {
    const root = makeHost(kubeadmDebian());
    const host = fakeState({});
    await install(root, host);
    writeTree(root, {
      [CP_CONFIG]: `${readHost(root, CP_CONFIG)}${OTHER_ENTRY}`,
      '/etc/kubernetes/credential-provider/bin/other': { content: '#!/bin/sh\n', mode: 0o755 },
    });
    await uninstall(root, host);
    const config = parse(readHost(root, CP_CONFIG)) as { providers: { name: string }[] };
    assert.deepEqual(config.providers.map((p) => p.name), ['other']);
    assert.ok(!existsSync(join(root, CP_BIN)));
    assert.equal(readHost(root, '/etc/default/kubelet'), `KUBELET_EXTRA_ARGS=${FLAGS}\n`);
    assertKubeletWouldStart(root, '/etc/default/kubelet');
  });

  it('k3s: another provider added to the config install created keeps the file; ours goes', async () => {
    const root = makeHost(k3sNode());
    const host = fakeState({ kubeletVersion: 'k3s version v1.30.4+k3s1 (98262b5d)' });
    await install(root, host);
    const config = '/var/lib/rancher/credentialprovider/config.yaml';
    writeTree(root, { [config]: `${readHost(root, config)}${OTHER_ENTRY}`, '/var/lib/rancher/credentialprovider/bin/other': { content: '#!/bin/sh\n', mode: 0o755 } });
    await uninstall(root, host);
    assert.deepEqual((parse(readHost(root, config)) as { providers: { name: string }[] }).providers.map((p) => p.name), ['other']);
    assert.ok(!existsSync(join(root, '/var/lib/rancher/credentialprovider/bin', OURS)));
  });

  it('our flags were copied where uninstall does not edit: nothing changes and the error says what to do', async () => {
    const root = makeHost(kubeadmDebian());
    const host = fakeState({});
    await install(root, host);
    writeTree(root, {
      '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS=\n',
      '/var/lib/kubelet/kubeadm-flags.env': `KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock ${FLAGS}"\n`,
    });
    const drifted = snapshot(root);
    await rejects(uninstall(root, host), /--image-credential-provider-config=\/etc\/kubernetes\/credential-provider\/config\.yaml.*\/var\/lib\/kubelet\/kubeadm-flags\.env.*nothing was changed/);
    assert.deepEqual(snapshot(root), drifted);
    assert.deepEqual(readState(host).restarts, ['kubelet.service']);
  });

  it('a --host-root that does not look like a node is an error, not "nothing to uninstall"', async () => {
    const root = makeHost({ '/etc/hostname': 'n\n' });
    const error = await rejects(uninstall(root, fakeState({})), /does not look like a node|cannot tell how this node starts the kubelet/);
    assert.equal(error.errorClass, 'config');
  });

  it('a node without our installer state: nothing to uninstall', async () => {
    const root = makeHost(kubeadmDebian());
    const before = snapshot(root);
    const c = await uninstall(root, fakeState({}));
    assert.ok(c.logs.some((l) => l.includes('nothing to uninstall')));
    assert.deepEqual(snapshot(root), before);
  });
});

describe('uninstall on an untouched node', () => {
  it('kubeadm with a pre-existing ACK_ARGS-free env file: byte-identical', async () => {
    const root = makeHost(kubeadmDebian({ '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--v=2"\n' }));
    const before = snapshot(root);
    const host = fakeState({});
    await install(root, host);
    await uninstall(root, host);
    assert.deepEqual(snapshot(root), before);
  });

  it('ACK: byte-identical', async () => {
    const root = makeHost(ackNode({ '/etc/kubernetes/kubelet-customized-args.conf': ACK_ARGS }));
    const before = snapshot(root);
    const host = fakeState({});
    await install(root, host);
    await uninstall(root, host);
    assert.deepEqual(snapshot(root), before);
  });
});
