// The subcommands through the built bundle, as the DaemonSet runs them, with the fake
// HostSystem selected by the hidden --host-system flag. Run `npm run build` first.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BUNDLE, cleanup, fakeBinary, fakeState, kubeadmDebian, makeHost, readHost, readState, snapshot, tempDir } from './helpers.ts';

after(cleanup);
before(() => assert.ok(existsSync(BUNDLE), 'run npm run build first'));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BUNDLE, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const fast = ['--health-timeout', '100ms', '--health-interval', '5ms'];

describe('bundle: install / uninstall / sync-config', () => {
  it('install, second install, dry-run and uninstall on a kubeadm node', () => {
    const root = makeHost(kubeadmDebian());
    const original = snapshot(root);
    const state = fakeState({ kubeletVersion: 'Kubernetes v1.30.2' });
    const binary = fakeBinary();
    const common = ['--host-root', root, '--host-system', `fake:${state}`, ...fast];

    const dry = cli(['install', ...common, '--binary', binary, '--configure-kubelet', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /\+KUBELET_EXTRA_ARGS=--image-credential-provider-config=/);
    assert.deepEqual(snapshot(root), original);

    const first = cli(['install', ...common, '--binary', binary, '--configure-kubelet']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '');
    assert.match(first.stderr, /info: installed: .*restarted kubelet\.service, healthy/);
    assert.equal(parse(readHost(root, '/etc/kubernetes/credential-provider/config.yaml')).providers[0].name, 'aliyun-acr-credential-provider');

    const second = cli(['install', ...common, '--binary', binary, '--configure-kubelet']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /nothing to change, no restart/);
    assert.deepEqual(readState(state).restarts, ['kubelet.service']);

    const un = cli(['uninstall', ...common]);
    assert.equal(un.code, 0, un.stderr);
    assert.deepEqual(snapshot(root), original);
    assert.deepEqual(readState(state).restarts, ['kubelet.service', 'kubelet.service']);
  });

  it('a kubelet that fails after the change: exit 1, one line, files restored', () => {
    const root = makeHost(kubeadmDebian());
    const original = snapshot(root);
    const state = fakeState({ kubeletVersion: 'v1.30.2', healthy: false });
    const r = cli(['install', '--host-root', root, '--host-system', `fake:${state}`, ...fast, '--binary', fakeBinary(), '--configure-kubelet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: install rolled back: kubelet\.service did not become healthy/);
    assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
    assert.deepEqual(snapshot(root), original);
  });

  it('an unknown host: exit 2 with the flags that make it work', () => {
    const root = makeHost({ '/etc/hostname': 'n\n' });
    const r = cli(['install', '--host-root', root, '--host-system', `fake:${fakeState({})}`, '--binary', fakeBinary()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--layout kubeadm\|k3s\|ack\|systemd/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('without --binary outside the single-file binary: exit 2', () => {
    const r = cli(['install', '--host-root', makeHost(kubeadmDebian()), '--host-system', `fake:${fakeState({})}`]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pass --binary PATH/);
  });

  it('sync-config runs until SIGTERM and writes the node file', async () => {
    const root = makeHost({ '/etc/hostname': 'n\n' });
    const src = join(tempDir(), 'config.yaml');
    writeFileSync(src, 'timeout: 20s\n');
    const child = spawn(process.execPath, [BUNDLE, 'sync-config', '--host-root', root, '--provider-config', src, '--interval', '20ms'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const end = Date.now() + 5000;
    while (!stderr.includes('updated') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(JSON.parse(readHost(root, '/etc/kubernetes/aliyun-acr-credential-provider/config.json')), { timeout: '20s' });
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 0);
  });
});
