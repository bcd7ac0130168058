// install / uninstall end to end on fake host trees, in-process, with the fake HostSystem.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { runInstall } from '../../src/install/install.ts';
import { planInstall } from '../../src/install/plan.ts';
import { runUninstall } from '../../src/install/uninstall.ts';
import { HostFs } from '../../src/install/host-fs.ts';
import { ackNode, cleanup, context, fakeState, inputs, k3sNode, kubeadmDebian, kubeadmRpm, makeHost, modeOf, readHost, readState, rejects, snapshot, systemdNoVar, systemdWithVar, writeFile, writeTree, type FakeHost } from './helpers.ts';
import { fakePayload } from './fake-payload.ts';

after(cleanup);

const CP_CONFIG = '/etc/kubernetes/credential-provider/config.yaml';
const CP_BIN = '/etc/kubernetes/credential-provider/bin/aliyun-acr-credential-provider';
const NODE_CONFIG = '/etc/kubernetes/aliyun-acr-credential-provider/config.json';

async function install(root: string, state: FakeHost, extra: Parameters<typeof inputs>[1] = {}, binary = fakePayload()) {
  const c = context(root, state);
  await runInstall(c.ctx, inputs(binary, extra));
  return c;
}

describe('install on kubeadm nodes', () => {
  it('Debian: adds both flags to KUBELET_EXTRA_ARGS in /etc/default/kubelet, writes files, restarts once', async () => {
    const root = makeHost(kubeadmDebian());
    const state = fakeState({ kubeletVersion: 'Kubernetes v1.30.2' });
    await install(root, state);
    assert.equal(readHost(root, '/etc/default/kubelet'), `KUBELET_EXTRA_ARGS=--image-credential-provider-config=${CP_CONFIG} --image-credential-provider-bin-dir=/etc/kubernetes/credential-provider/bin\n`);
    assert.equal(modeOf(root, CP_BIN), 0o755);
    assert.equal(modeOf(root, NODE_CONFIG), 0o644);
    assert.equal(readHost(root, NODE_CONFIG), '{}\n');
    const config = parse(readHost(root, CP_CONFIG));
    assert.equal(config.apiVersion, 'kubelet.config.k8s.io/v1');
    assert.equal(config.providers[0].apiVersion, 'credentialprovider.kubelet.k8s.io/v1');
    assert.deepEqual(config.providers[0].args, ['--config', NODE_CONFIG]);
    const s = readState(state);
    assert.deepEqual(s.restarts, ['kubelet.service']);
    assert.equal(s.daemonReloads, 1);
    assert.deepEqual(s.versionCalls, ['/usr/bin/kubelet']);
  });

  it('a fresh node: the state directory it creates inside the provider\'s cache directory leaves that directory usable (0700)', async () => {
    const root = makeHost(kubeadmDebian());
    await install(root, fakeState({ kubeletVersion: 'Kubernetes v1.30.2' }));
    assert.equal(modeOf(root, '/var/lib/aliyun-acr-credential-provider'), 0o700, 'the provider trusts its cache directory only at 0700');
    assert.equal(modeOf(root, '/var/lib/aliyun-acr-credential-provider/installer'), 0o700);
  });

  it('RPM: creates /etc/sysconfig/kubelet when the drop-in references it and it is missing', async () => {
    const root = makeHost(kubeadmRpm());
    const state = fakeState({ kubeletVersion: 'Kubernetes v1.29.0' });
    await install(root, state);
    assert.equal(readHost(root, '/etc/sysconfig/kubelet'), `KUBELET_EXTRA_ARGS="--image-credential-provider-config=${CP_CONFIG} --image-credential-provider-bin-dir=/etc/kubernetes/credential-provider/bin"\n`);
  });

  it('a second run changes nothing and does not restart; uninstall restores the tree byte for byte', async () => {
    const root = makeHost(kubeadmDebian());
    const before = snapshot(root);
    const state = fakeState({ kubeletVersion: 'v1.30.2' });
    const binary = fakePayload();
    await install(root, state, {}, binary);
    const installed = snapshot(root);
    const second = await install(root, state, {}, binary);
    assert.deepEqual(snapshot(root), installed);
    assert.ok(second.logs.some((l) => l.includes('nothing to change')));
    assert.deepEqual(readState(state).restarts, ['kubelet.service']);
    const u = context(root, state);
    await runUninstall(u.ctx);
    assert.deepEqual(snapshot(root), before);
    assert.deepEqual(readState(state).restarts, ['kubelet.service', 'kubelet.service']);
  });

  it('without --configure-kubelet leaves the flag files alone, warns, and does not restart', async () => {
    const root = makeHost(kubeadmDebian());
    const state = fakeState({ kubeletVersion: 'v1.30.2' });
    const c = await install(root, state, { configureKubelet: false });
    assert.equal(readHost(root, '/etc/default/kubelet'), 'KUBELET_EXTRA_ARGS=\n');
    assert.ok(c.logs.some((l) => /warn: the kubelet does not use the provider yet/.test(l)));
    assert.equal(readState(state).restarts, undefined);
  });
});

describe('install: kubelet versions', () => {
  const cases = [
    { v: 'v1.22.17', config: 'v1alpha1', provider: 'v1alpha1', gate: true },
    { v: 'v1.25.16', config: 'v1beta1', provider: 'v1beta1', gate: false },
    { v: 'v1.30.2', config: 'v1', provider: 'v1', gate: false },
    { v: 'v1.33.1', config: 'v1', provider: 'v1', gate: false },
    { v: 'v1.34.0', config: 'v1', provider: 'v1', gate: false },
  ];
  for (const c of cases) {
    it(`${c.v}: config ${c.config}, provider ${c.provider}, feature gate ${c.gate ? 'added' : 'not added'}`, async () => {
      const root = makeHost(kubeadmDebian());
      await install(root, fakeState({ kubeletVersion: `Kubernetes ${c.v}` }));
      const config = parse(readHost(root, CP_CONFIG));
      assert.equal(config.apiVersion, `kubelet.config.k8s.io/${c.config}`);
      assert.equal(config.providers[0].apiVersion, `credentialprovider.kubelet.k8s.io/${c.provider}`);
      assert.equal(readHost(root, '/etc/default/kubelet').includes('--feature-gates=KubeletCredentialProviders=true'), c.gate);
    });
  }

  it('refuses a kubelet older than 1.20', async () => {
    const root = makeHost(kubeadmDebian());
    const before = snapshot(root);
    await rejects(install(root, fakeState({ kubeletVersion: 'Kubernetes v1.19.16' })), /needs 1\.20 or later/);
    assert.deepEqual(snapshot(root), before);
  });
});

describe('install: existing CredentialProviderConfig', () => {
  const existing = `# Platform credential providers
apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  # ECR, managed by the platform
  - name: ecr-credential-provider
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
    defaultCacheDuration: "12h"
    apiVersion: credentialprovider.kubelet.k8s.io/v1
`;
  function node(extraFlags = '') {
    return kubeadmDebian({
      '/var/lib/kubelet/kubeadm-flags.env': `KUBELET_KUBEADM_ARGS="--image-credential-provider-config=/etc/kubernetes/cp/config.yaml --image-credential-provider-bin-dir=/usr/local/lib/cp${extraFlags}"\n`,
      '/etc/kubernetes/cp/config.yaml': existing,
      '/usr/local/lib/cp/ecr-credential-provider': { content: 'ecr', mode: 0o755 },
    });
  }

  it('merges our entry: the other provider and the comments stay, the paths are reused, no flag is added', async () => {
    const root = makeHost(node());
    const state = fakeState({ kubeletVersion: 'v1.31.0' });
    const binary = fakePayload();
    await install(root, state, { providerConfig: writeFile('registries:\n  - domains: [registry.example.com]\n    instanceId: cri-abc\n') }, binary);
    const text = readHost(root, '/etc/kubernetes/cp/config.yaml');
    assert.ok(text.startsWith('# Platform credential providers\n'));
    assert.ok(text.includes('  # ECR, managed by the platform\n  - name: ecr-credential-provider'));
    const config = parse(text);
    assert.equal(config.providers.length, 2);
    assert.equal(config.providers[0].name, 'ecr-credential-provider');
    assert.deepEqual(config.providers[0].matchImages, ['*.dkr.ecr.*.amazonaws.com']);
    assert.equal(config.providers[1].name, 'aliyun-acr-credential-provider');
    assert.ok(config.providers[1].matchImages.includes('registry.example.com'));
    assert.equal(modeOf(root, '/usr/local/lib/cp/aliyun-acr-credential-provider'), 0o755);
    assert.equal(readHost(root, '/etc/default/kubelet'), 'KUBELET_EXTRA_ARGS=\n');
    assert.equal(readState(state).daemonReloads, undefined);
    assert.deepEqual(readState(state).restarts, ['kubelet.service']);
    // Replaced in place on a change, order kept.
    await install(root, state, { providerConfig: writeFile('registries:\n  - domains: [other.example.com]\n') }, binary);
    const again = parse(readHost(root, '/etc/kubernetes/cp/config.yaml'));
    assert.deepEqual(again.providers.map((p: { name: string }) => p.name), ['ecr-credential-provider', 'aliyun-acr-credential-provider']);
    assert.ok(again.providers[1].matchImages.includes('other.example.com'));
    assert.ok(!again.providers[1].matchImages.includes('registry.example.com'));
  });

  it('refuses when another provider has no executable in the bin dir (the kubelet would not start)', async () => {
    const spec = node();
    delete spec['/usr/local/lib/cp/ecr-credential-provider'];
    const root = makeHost(spec);
    const before = snapshot(root);
    await rejects(install(root, fakeState({ kubeletVersion: 'v1.31.0' })), /ecr-credential-provider is missing or not executable/);
    assert.deepEqual(snapshot(root), before);
  });

  it('JSON stays JSON', async () => {
    const json = `{\n    "apiVersion": "kubelet.config.k8s.io/v1",\n    "kind": "CredentialProviderConfig",\n    "providers": []\n}\n`;
    const root = makeHost(kubeadmDebian({ '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--image-credential-provider-config=/etc/kubernetes/cp.json"\n', '/etc/kubernetes/cp.json': json }));
    await install(root, fakeState({ kubeletVersion: 'v1.30.0' }));
    const text = readHost(root, '/etc/kubernetes/cp.json');
    const doc = JSON.parse(text);
    assert.equal(doc.providers[0].name, 'aliyun-acr-credential-provider');
    assert.ok(text.includes('\n    "kind"'), 'indentation kept');
    assert.match(readHost(root, '/etc/default/kubelet'), /^KUBELET_EXTRA_ARGS="--image-credential-provider-config=\/etc\/kubernetes\/cp\.json --image-credential-provider-bin-dir=\/etc\/kubernetes\/credential-provider\/bin"\n$/);
  });

  it('a config directory on 1.34: drops our own file next to the others', async () => {
    const other = 'apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: other\n    matchImages: ["example.com"]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n';
    const spec = kubeadmDebian({
      '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--image-credential-provider-config=/etc/kubernetes/cp.d --image-credential-provider-bin-dir=/opt/cp"\n',
      '/etc/kubernetes/cp.d/10-other.yaml': other,
      '/opt/cp/other': { content: 'x', mode: 0o755 },
    });
    const root = makeHost(spec);
    const before = snapshot(root);
    const state = fakeState({ kubeletVersion: 'v1.34.1' });
    await install(root, state);
    assert.equal(readHost(root, '/etc/kubernetes/cp.d/10-other.yaml'), other);
    const ours = parse(readHost(root, '/etc/kubernetes/cp.d/aliyun-acr-credential-provider.yaml'));
    assert.equal(ours.providers[0].name, 'aliyun-acr-credential-provider');
    await runUninstall(context(root, state).ctx);
    assert.deepEqual(snapshot(root), before);
  });

  it('a config directory before 1.34 is refused', async () => {
    const root = makeHost(kubeadmDebian({ '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--image-credential-provider-config=/etc/kubernetes/cp.d"\n', '/etc/kubernetes/cp.d/.keep': '' }));
    await rejects(install(root, fakeState({ kubeletVersion: 'v1.33.0' })), /is a directory, which kubelet v1\.33\.0 does not support/);
  });

  it('a duplicate of our name in another file of the directory is refused', async () => {
    const dup = 'apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: aliyun-acr-credential-provider\n    matchImages: ["x.com"]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n';
    const root = makeHost(kubeadmDebian({ '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--image-credential-provider-config=/etc/kubernetes/cp.d"\n', '/etc/kubernetes/cp.d/00-old.yaml': dup }));
    await rejects(install(root, fakeState({ kubeletVersion: 'v1.34.0' })), /duplicate provider name "aliyun-acr-credential-provider"/);
  });
});

describe('install: safety', () => {
  it('rolls back byte-identically and fails when the kubelet does not come back healthy', async () => {
    const root = makeHost(kubeadmDebian());
    const before = snapshot(root);
    const state = fakeState({ kubeletVersion: 'v1.30.2', healthy: false });
    const error = await rejects(install(root, state), /install rolled back: kubelet\.service did not become healthy/);
    assert.equal(error.errorClass, 'install');
    assert.deepEqual(snapshot(root), before);
    assert.deepEqual(readState(state).restarts, ['kubelet.service', 'kubelet.service']);
  });

  it('a rolled-back upgrade keeps the earlier install and its manifest', async () => {
    const root = makeHost(kubeadmDebian());
    const state = fakeState({ kubeletVersion: 'v1.30.2' });
    const binary = fakePayload();
    await install(root, state, {}, binary);
    const installed = snapshot(root);
    writeTree(root, {}); // unchanged tree
    const failing = fakeState({ kubeletVersion: 'v1.30.2', healthy: false });
    await rejects(install(root, failing, { providerConfig: writeFile('registries:\n  - domains: [new.example.com]\n') }, binary), /rolled back/);
    assert.deepEqual(snapshot(root), installed);
  });

  it('a rolled-back binary upgrade puts the previous binary back byte for byte and keeps no backup', async () => {
    const root = makeHost(kubeadmDebian());
    await install(root, fakeState({ kubeletVersion: 'v1.30.2' }), {}, fakePayload({ build: 1 }));
    const installed = snapshot(root);
    const failing = fakeState({ kubeletVersion: 'v1.30.2', healthy: false });
    const upgrade = { providerConfig: writeFile('registries:\n  - domains: [new.example.com]\n') };
    await rejects(install(root, failing, upgrade, fakePayload({ build: 2 })), /install rolled back/);
    assert.deepEqual(snapshot(root), installed);
  });

  it('uninstall --dry-run shows what it would take out and changes nothing', async () => {
    const root = makeHost(kubeadmDebian());
    const state = fakeState({});
    await install(root, state);
    writeTree(root, { '/etc/default/kubelet': `${readHost(root, '/etc/default/kubelet')}FOO=1\n` });
    const drifted = snapshot(root);
    const c = context(root, state, { dryRun: true });
    await runUninstall(c.ctx);
    const out = c.stdout.join('');
    assert.match(out, /-KUBELET_EXTRA_ARGS=--image-credential-provider-config=\S+ --image-credential-provider-bin-dir=\S+\n\+KUBELET_EXTRA_ARGS=\n FOO=1/);
    assert.match(out, /# remove \/etc\/kubernetes\/credential-provider\/bin\/aliyun-acr-credential-provider/);
    assert.match(out, /systemctl restart kubelet\.service/);
    assert.deepEqual(snapshot(root), drifted);
  });

  it('--dry-run prints unified diffs and changes nothing', async () => {
    const root = makeHost(kubeadmDebian());
    const before = snapshot(root);
    const state = fakeState({ kubeletVersion: 'v1.30.2' });
    const c = context(root, state, { dryRun: true });
    await runInstall(c.ctx, inputs(fakePayload()));
    const out = c.stdout.join('');
    assert.match(out, /--- a\/etc\/default\/kubelet/);
    assert.match(out, /\+KUBELET_EXTRA_ARGS=--image-credential-provider-config=/);
    assert.match(out, /\+\+\+ b\/etc\/kubernetes\/credential-provider\/config\.yaml/);
    assert.match(out, /# install payload \/etc\/kubernetes\/credential-provider\/bin\/\.aliyun-acr-credential-provider\/0\.1\.0-(amd64|arm64)-[0-9a-f]{16} from \S+: 4 files and manifest\.json, \d+ bytes/);
    assert.match(out, /\+\+\+ b\/etc\/kubernetes\/credential-provider\/bin\/aliyun-acr-credential-provider\n@@ -0,0 \+1,2 @@\n\+#!\/bin\/sh\n\+exec '/);
    assert.match(out, /systemctl restart kubelet\.service/);
    assert.deepEqual(snapshot(root), before);
    assert.equal(readState(state).restarts, undefined);
    assert.equal(readState(state).pluginCalls, undefined, 'a dry run runs nothing');
  });

  it('an intact installed payload is not copied again; another build is', async () => {
    const payload = fakePayload();
    const root = makeHost(kubeadmDebian());
    const fresh = await planInstall(new HostFs(root), fakeState({ kubeletVersion: 'v1.30.0' }), inputs(payload));
    assert.ok(fresh.payload, 'a fresh node gets the payload');
    await install(root, fakeState({ kubeletVersion: 'v1.30.0' }), {}, payload);
    const again = await planInstall(new HostFs(root), fakeState({ kubeletVersion: 'v1.30.0' }), inputs(payload));
    assert.equal(again.payload, undefined);
    assert.deepEqual(again.changes, []);
    const other = await planInstall(new HostFs(root), fakeState({ kubeletVersion: 'v1.30.0' }), inputs(fakePayload({ build: 2 })));
    assert.ok(other.payload && !other.payload.replace);
    assert.deepEqual(other.changes.map((c) => c.kind), ['binary']);
  });

  it('an invalid provider config is refused before anything is written', async () => {
    const root = makeHost(kubeadmDebian());
    const before = snapshot(root);
    const error = await rejects(install(root, fakeState({ kubeletVersion: 'v1.30.0' }), { providerConfig: writeFile('expiringThreshold: 10m\ncacheDirr: /tmp\n') }), /unknown key "cacheDirr"/);
    assert.equal(error.errorClass, 'config');
    assert.deepEqual(snapshot(root), before);
  });

  it('a host it cannot recognise is refused with the flags that make it work', async () => {
    const root = makeHost({ '/etc/hostname': 'node\n' });
    const error = await rejects(install(root, fakeState({})), /pass --layout kubeadm\|k3s\|ack\|systemd .*--bin-dir and --kubelet-config-file/);
    assert.equal(error.errorClass, 'config');
  });

  it('refuses a --kubelet-config-file that conflicts with the kubelet flag already set', async () => {
    const root = makeHost(kubeadmDebian({ '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS="--image-credential-provider-config=/etc/a.yaml"\n' }));
    await rejects(install(root, fakeState({ kubeletVersion: 'v1.30.0' }), { kubeletConfigFile: '/etc/b.yaml' }), /already runs with --image-credential-provider-config=\/etc\/a\.yaml/);
  });

  it('uninstall leaves a flags file that no longer has our flags as it is', async () => {
    const root = makeHost(kubeadmDebian());
    const state = fakeState({ kubeletVersion: 'v1.30.0' });
    await install(root, state);
    writeTree(root, { '/etc/default/kubelet': 'KUBELET_EXTRA_ARGS=--v=4\n' });
    const u = context(root, state);
    await runUninstall(u.ctx);
    assert.equal(readHost(root, '/etc/default/kubelet'), 'KUBELET_EXTRA_ARGS=--v=4\n');
    assert.ok(u.logs.some((l) => /uninstalled: .*removed \/etc\/kubernetes\/credential-provider\/config\.yaml/.test(l)), u.logs.join('\n'));
  });
});

describe('install on other layouts', () => {
  it('k3s: files in /var/lib/rancher/credentialprovider, no flag edits, restarts k3s', async () => {
    const root = makeHost(k3sNode());
    const before = snapshot(root);
    const state = fakeState({ kubeletVersion: 'k3s version v1.30.4+k3s1 (98262b5d)' });
    await install(root, state);
    assert.equal(modeOf(root, '/var/lib/rancher/credentialprovider/bin/aliyun-acr-credential-provider'), 0o755);
    assert.equal(parse(readHost(root, '/var/lib/rancher/credentialprovider/config.yaml')).apiVersion, 'kubelet.config.k8s.io/v1');
    const s = readState(state);
    assert.deepEqual(s.restarts, ['k3s.service']);
    assert.deepEqual(s.versionCalls, ['/usr/local/bin/k3s']);
    assert.equal(s.daemonReloads, undefined);
    await runUninstall(context(root, state).ctx);
    assert.deepEqual(snapshot(root), before);
  });

  it('rke2: picks the enabled one of rke2-server and rke2-agent', async () => {
    const root = makeHost({
      '/usr/local/lib/systemd/system/rke2-server.service': '[Service]\nExecStart=/usr/local/bin/rke2 server\n',
      '/usr/local/lib/systemd/system/rke2-agent.service': '[Service]\nExecStart=/usr/local/bin/rke2 agent\n',
      '/etc/systemd/system/multi-user.target.wants/rke2-agent.service': { symlink: '/usr/local/lib/systemd/system/rke2-agent.service' },
    });
    const state = fakeState({ kubeletVersion: 'rke2 version v1.29.8+rke2r1 (abc)' });
    await install(root, state);
    assert.deepEqual(readState(state).restarts, ['rke2-agent.service']);
    assert.equal(parse(readHost(root, '/var/lib/rancher/credentialprovider/config.yaml')).apiVersion, 'kubelet.config.k8s.io/v1');
  });

  it('ACK: appends to KUBELET_CUSTOMIZED_ARGS, keeping ACK\'s own flags byte-identical', async () => {
    const root = makeHost(ackNode());
    const before = snapshot(root);
    const state = fakeState({ kubeletVersion: 'Kubernetes v1.31.1-aliyun.1' });
    await install(root, state);
    assert.equal(
      readHost(root, '/etc/kubernetes/kubelet-customized-args.conf'),
      `KUBELET_CUSTOMIZED_ARGS=" --eviction-hard=imagefs.available<15%,memory.available<300Mi --system-reserved=cpu=50m,memory=1272Mi  --image-credential-provider-config=${CP_CONFIG} --image-credential-provider-bin-dir=/etc/kubernetes/credential-provider/bin"\n`,
    );
    assert.deepEqual(readState(state).restarts, ['kubelet.service']);
    await runUninstall(context(root, state).ctx);
    assert.deepEqual(snapshot(root), before);
  });

  it('ACK-like node whose unit does not load the args file: systemd drop-in with a warning', async () => {
    const spec = ackNode();
    spec['/etc/systemd/system/kubelet.service.d/10-kubeadm.conf'] = '[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml\n';
    const root = makeHost(spec);
    const c = await install(root, fakeState({ kubeletVersion: 'v1.30.0' }));
    assert.ok(c.logs.some((l) => l.includes('does not load /etc/kubernetes/kubelet-customized-args.conf')));
    assert.match(readHost(root, '/etc/systemd/system/kubelet.service.d/90-aliyun-acr-credential-provider.conf'), /ExecStart=\nExecStart=\/usr\/bin\/kubelet --config=\/var\/lib\/kubelet\/config\.yaml --image-credential-provider-config=/);
  });

  it('systemd, ExecStart expands a variable set by Environment=: the drop-in sets it with the old value plus the flags', async () => {
    const root = makeHost(systemdWithVar());
    const before = snapshot(root);
    const state = fakeState({ kubeletVersion: 'v1.28.3' });
    await install(root, state);
    assert.equal(
      readHost(root, '/etc/systemd/system/kubelet.service.d/90-aliyun-acr-credential-provider.conf').split('\n').slice(2).join('\n'),
      `[Service]\nEnvironment="KUBELET_ARGS=--v=2 --node-labels=a=b --image-credential-provider-config=${CP_CONFIG} --image-credential-provider-bin-dir=/etc/kubernetes/credential-provider/bin"\n`,
    );
    assert.deepEqual(readState(state).versionCalls, ['/usr/local/bin/kubelet']);
    const second = await install(root, state);
    assert.ok(second.logs.some((l) => l.includes('nothing to change')), 'the drop-in flags are seen on the next run');
    await runUninstall(context(root, state).ctx);
    assert.deepEqual(snapshot(root), before);
  });

  it('systemd, ExecStart without a variable: the drop-in resets ExecStart and repeats it with the flags', async () => {
    const root = makeHost(systemdNoVar());
    const before = snapshot(root);
    const state = fakeState({ kubeletVersion: 'v1.27.0' });
    await install(root, state);
    const dropIn = readHost(root, '/etc/systemd/system/kubelet.service.d/90-aliyun-acr-credential-provider.conf');
    assert.match(dropIn, /\[Service\]\nExecStart=\nExecStart=\/usr\/local\/bin\/kubelet --config=\/var\/lib\/kubelet\/config\.yaml --v=2 --image-credential-provider-config=\S+ --image-credential-provider-bin-dir=\S+\n$/);
    assert.equal(readState(state).daemonReloads, 1);
    await runUninstall(context(root, state).ctx);
    assert.deepEqual(snapshot(root), before);
  });

  it('explicit paths on an unknown host: installs files, no flags, no restart', async () => {
    const root = makeHost({ '/etc/hostname': 'node\n' });
    const c = await install(root, fakeState({}), { binDir: '/opt/cp/bin', kubeletConfigFile: '/opt/cp/config.yaml', kubeletVersion: '1.30', configureKubelet: false });
    assert.equal(modeOf(root, '/opt/cp/bin/aliyun-acr-credential-provider'), 0o755);
    assert.ok(c.logs.some((l) => l.includes('no --kubelet-unit given')));
  });
});
