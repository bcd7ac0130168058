// The installer puts the payload directory on the node behind the /bin/sh wrapper, smoke-tests it
// exactly as the kubelet will run it (chroot into the host tree, whose only program is a static
// busybox /bin/sh) before anything of the kubelet changes, and rolls it back when it fails.
// In-process, with payloads in the real format whose binary and loader are /bin/sh stand-ins.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runInstall } from '../../src/install/install.ts';
import { runUninstall } from '../../src/install/uninstall.ts';
import { payloadId } from '../../src/payload/manifest.ts';
import { renderWrapper } from '../../src/payload/wrapper.ts';
import { cleanup, context, fakeState, inputs, kubeadmDebian, makeHost, readState, rejects, runInChroot, snapshot, writeFile, type FakeHost } from './helpers.ts';
import { fakePayload, MACHINE_ARCH, manifestOf } from './fake-payload.ts';

after(cleanup);

const BIN = '/etc/kubernetes/credential-provider/bin';
const WRAPPER = `${BIN}/aliyun-acr-credential-provider`;
const BASE = `${BIN}/.aliyun-acr-credential-provider`;
const NODE_CONFIG = '/etc/kubernetes/aliyun-acr-credential-provider/config.json';
const KUBELET_FILES = ['/etc/default/kubelet', '/etc/kubernetes/credential-provider/config.yaml'];
const REQUEST = '{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"docker.io/library/busybox"}\n';

async function install(root: string, payload: string, state: FakeHost = fakeState({}), extra: Parameters<typeof inputs>[1] = {}) {
  const c = context(root, state);
  await runInstall(c.ctx, inputs(payload, extra));
  return c;
}

const dirOf = (payload: string) => `${BASE}/${payloadId(manifestOf(payload))}`;
const kubeletFiles = (root: string) => KUBELET_FILES.map((f) => (existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : '<absent>'));

describe('install: the payload behind the wrapper', () => {
  it('copies the payload into <bin dir>/.aliyun-acr-credential-provider/<id> and writes the wrapper; chroot <host> <wrapper> answers a kubelet request', async () => {
    const payload = fakePayload();
    const root = makeHost(kubeadmDebian());
    await install(root, payload);
    const m = manifestOf(payload);
    const dir = dirOf(payload);
    assert.equal(readFileSync(join(root, WRAPPER), 'utf8'), renderWrapper(dir, m.loader));
    assert.equal(statSync(join(root, WRAPPER)).mode & 0o7777, 0o755);
    for (const f of m.files) {
      const st = statSync(join(root, dir, f.path));
      assert.deepEqual([st.uid, st.mode & 0o7777, st.size], [0, Number.parseInt(f.mode, 8), f.size], f.path);
    }
    assert.equal(readFileSync(join(root, dir, 'manifest.json'), 'utf8'), readFileSync(join(payload, 'manifest.json'), 'utf8'));
    assert.deepEqual(readdirSync(join(root, BASE)), [payloadId(m)], 'nothing but the versioned directory');
    assert.equal(statSync(join(root, BASE)).mode & 0o7777, 0o755);
    const r = await runInChroot(root, WRAPPER, ['--config', NODE_CONFIG], REQUEST);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { kind: 'CredentialProviderResponse', apiVersion: 'credentialprovider.kubelet.k8s.io/v1', cacheKeyType: 'Image', cacheDuration: '5m0s' });
  });

  it('the smoke test runs the wrapper as the kubelet will (its path, the entry\'s args, a request for an image that is not ACR) before any kubelet file changes', async () => {
    const root = makeHost(kubeadmDebian());
    const original = kubeletFiles(root);
    let seen: string[] | undefined;
    let restartsThen: number | undefined;
    const state = fakeState({ kubeletVersion: 'v1.25.3' });
    state.state.plugin = async (path, args, stdin) => {
      seen ??= kubeletFiles(root);
      restartsThen ??= state.state.restarts?.length ?? 0;
      return runInChroot(root, path, args, stdin);
    };
    await install(root, fakePayload(), state);
    assert.deepEqual(seen, original, 'the kubelet files were untouched while it ran');
    assert.equal(restartsThen, 0);
    const calls = readState(state).pluginCalls ?? [];
    const candidate = `${BIN}/.aliyun-acr-credential-provider.candidate`; // renamed over WRAPPER once it passed
    assert.deepEqual(calls.map((c) => [c.path, ...c.args]), [[candidate, '--version'], [candidate, '--config', NODE_CONFIG]]);
    assert.deepEqual(JSON.parse(calls[1]!.stdin), { kind: 'CredentialProviderRequest', apiVersion: 'credentialprovider.kubelet.k8s.io/v1beta1', image: 'docker.io/library/nginx' });
    assert.notDeepEqual(kubeletFiles(root), original, 'then the kubelet was configured');
    assert.deepEqual(readState(state).restarts, ['kubelet.service']);
  });

  it('a library missing from the payload: the smoke test fails with the loader\'s message, nothing of the kubelet changes, the node ends byte-identical', async () => {
    const root = makeHost(kubeadmDebian());
    const before = snapshot(root);
    const state = fakeState({});
    const error = await rejects(install(root, fakePayload({ omit: ['lib/libc.so.6'] }), state), /the installed provider failed its smoke test: .*aliyun-acr-credential-provider --version exited 127: .*error while loading shared libraries: libc\.so\.6: cannot open shared object file: No such file or directory; its payload directory lacks a library .*reinstall from an intact image\. Nothing of the kubelet was changed and the installed files were rolled back/);
    assert.equal(error.errorClass, 'install');
    assert.deepEqual(snapshot(root), before);
    assert.equal(readState(state).restarts, undefined);
    assert.equal(readState(state).daemonReloads, undefined);
  });

  it('a provider that answers wrongly fails the smoke test; an upgrade to it leaves the previous version installed byte for byte', async () => {
    const root = makeHost(kubeadmDebian());
    await install(root, fakePayload());
    const installed = snapshot(root);
    const wrong = fakePayload({ build: 2, providerScript: '#!/bin/sh\n[ "$1" = --version ] && { echo 0.1.0; exit 0; }\necho \'{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","auth":{"x":{"username":"u","password":"p"}}}\'\n' });
    const state = fakeState({});
    await rejects(install(root, wrong, state), /answered a kubelet request for docker\.io\/library\/nginx with .*fields apiVersion,auth,cacheKeyType,kind, expected kind, apiVersion, cacheKeyType and cacheDuration only \(no auth\)\. Nothing of the kubelet was changed/);
    assert.deepEqual(snapshot(root), installed);
    assert.equal(readState(state).restarts, undefined);
  });

  for (const outcome of ['passes', 'fails'] as const) {
    it(`an upgrade whose new version ${outcome} the smoke test: while it runs, the kubelet's executable still runs the previous version`, async () => {
      const root = makeHost(kubeadmDebian());
      const old = fakePayload();
      await install(root, old);
      const oldWrapper = readFileSync(join(root, WRAPPER), 'utf8');
      const next = outcome === 'passes' ? fakePayload({ build: 2 }) : fakePayload({ build: 2, omit: ['lib/libc.so.6'] });
      const state = fakeState({});
      const seen: string[] = [];
      state.state.plugin = async (path, args, stdin) => {
        seen.push(readFileSync(join(root, WRAPPER), 'utf8'));
        return runInChroot(root, path, args, stdin);
      };
      const run = install(root, next, state);
      if (outcome === 'fails') await rejects(run, /the installed provider failed its smoke test: \S+\/aliyun-acr-credential-provider --version exited 127: .*libc\.so\.6/);
      else await run;
      assert.equal(seen.length, outcome === 'passes' ? 2 : 1, 'smoke-test runs: --version, then (when it passed) a request');
      for (const wrapper of seen) assert.equal(wrapper, oldWrapper, 'the kubelet\'s executable did not change while the new version was tested');
      const tested = (readState(state).pluginCalls ?? []).map((c) => c.path);
      assert.ok(tested.every((p) => p !== WRAPPER && p.startsWith(`${BIN}/.`)), `the smoke test ran a candidate beside the wrapper: ${tested.join(', ')}`);
      assert.equal(readFileSync(join(root, WRAPPER), 'utf8'), outcome === 'passes' ? renderWrapper(dirOf(next), manifestOf(next).loader) : oldWrapper);
      assert.deepEqual(readdirSync(join(root, BIN)).filter((n) => n.endsWith('.candidate')), [], 'no candidate left behind');
    });
  }

  it('a wrapper that runs another version than the payload\'s fails the smoke test', async () => {
    const root = makeHost(kubeadmDebian());
    const before = snapshot(root);
    const liar = fakePayload({ providerScript: '#!/bin/sh\necho 0.0.9\n' });
    await rejects(install(root, liar), /--version printed "0\.0\.9\\n", not the installed version 0\.1\.0/);
    assert.deepEqual(snapshot(root), before);
  });

  it('a payload for another architecture than the node\'s /bin/sh is refused before anything is written', async () => {
    const root = makeHost(kubeadmDebian());
    const before = snapshot(root);
    const other = MACHINE_ARCH === 'amd64' ? 'arm64' : 'amd64';
    const error = await rejects(install(root, fakePayload({ arch: other })), new RegExp(`the payload is for ${other} but this node runs ${MACHINE_ARCH} \\(its /bin/sh\\); deploy the image of the node's architecture`));
    assert.equal(error.errorClass, 'config');
    assert.deepEqual(snapshot(root), before);
  });

  it('upgrades: the wrapper switches to the new directory, the previous one is kept, older ones go; uninstall removes them all', async () => {
    const root = makeHost(kubeadmDebian());
    const original = snapshot(root);
    const builds = [1, 2, 3].map((build) => fakePayload({ build }));
    for (const p of builds) await install(root, p);
    assert.deepEqual(readdirSync(join(root, BASE)).sort(), [dirOf(builds[1]!), dirOf(builds[2]!)].map((d) => d.split('/').pop()).sort());
    assert.equal(readFileSync(join(root, WRAPPER), 'utf8'), renderWrapper(dirOf(builds[2]!), manifestOf(builds[2]!).loader));
    const r = await runInChroot(root, WRAPPER, ['--version'], '');
    assert.equal(r.stdout, '0.1.0\n');
    await runUninstall(context(root, fakeState({})).ctx);
    assert.deepEqual(snapshot(root), original);
  });

  it('a damaged installed payload (a file removed) is installed again, and what was there is put back if that fails', async () => {
    const root = makeHost(kubeadmDebian());
    const payload = fakePayload();
    await install(root, payload);
    const installed = snapshot(root);
    rmSync(join(root, dirOf(payload), 'lib/libc.so.6'));
    const damaged = snapshot(root);
    // Repair along with a new matchImages, but the kubelet does not come back healthy: everything as it was, damage included.
    await rejects(install(root, payload, fakeState({ healthy: false }), { providerConfig: writeFile('registries:\n  - domains: [registry.example.com]\n') }), /install rolled back: kubelet\.service did not become healthy/);
    assert.deepEqual(snapshot(root), damaged);
    const c = await install(root, payload);
    assert.ok(c.logs.some((l) => /the installed payload is damaged \(\S+lib\/libc\.so\.6 is missing\): installing it again/.test(l)), c.logs.join('\n'));
    assert.deepEqual(snapshot(root), installed);
  });
});

describe('install: a payload directory another user could change', () => {
  it('a base directory owned by another user is refused before anything is written', async () => {
    const root = makeHost(kubeadmDebian({ [`${BASE}/.keep`]: '' }));
    chownSync(join(root, BASE), 1000, 1000);
    const before = snapshot(root);
    await rejects(install(root, fakePayload()), /\.aliyun-acr-credential-provider is owned by uid 1000, who could redirect what the installer writes there/);
    assert.deepEqual(snapshot(root), before);
  });

  for (const what of ['lib/libc.so.6', 'lib'] as const) {
    it(`an installed ${what === 'lib' ? 'directory' : 'library'} that uid 1000 owns makes the payload damaged: installed again, root's`, async () => {
      const root = makeHost(kubeadmDebian());
      const payload = fakePayload();
      await install(root, payload);
      chownSync(join(root, dirOf(payload), what), 1000, 1000);
      const c = await install(root, payload);
      assert.ok(c.logs.some((l) => new RegExp(`the installed payload is damaged \\(\\S+/${what.replace('.', '\\.')} is owned by uid 1000`).test(l)), c.logs.join('\n'));
      assert.equal(statSync(join(root, dirOf(payload), what)).uid, 0);
      assert.deepEqual(readdirSync(join(root, BASE)), [dirOf(payload).split('/').pop()]);
    });
  }

  it('an installed file writable by its group makes the payload damaged', async () => {
    const root = makeHost(kubeadmDebian());
    const payload = fakePayload();
    await install(root, payload);
    chmodSync(join(root, dirOf(payload), 'aliyun-acr-credential-provider'), 0o775);
    const c = await install(root, payload);
    assert.ok(c.logs.some((l) => /aliyun-acr-credential-provider has mode 0775, not writable by root alone/.test(l)), c.logs.join('\n'));
  });
});
