// The subcommands through the built bundle, as the DaemonSet runs them: the fake nsenter first on
// PATH plays the host's systemctl and kubelet, healthz is a local HTTP server. Run `npm run build` first.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BUNDLE, cleanup, kubeadmDebian, makeHost, readHost, snapshot, tempDir } from './helpers.ts';
import { fakePayload } from './fake-payload.ts';
import { FakeNode, runCli } from './fake-node.ts';

/** Where a new wrapper is smoke-tested before it is renamed over the kubelet's executable. */
const CANDIDATE = '/etc/kubernetes/credential-provider/bin/.aliyun-acr-credential-provider.candidate';

let node: FakeNode;
before(async () => {
  assert.ok(existsSync(BUNDLE), 'run npm run build first');
  node = await FakeNode.start();
});
after(async () => {
  await node.close();
  cleanup();
});

describe('bundle: install / uninstall / sync-config', () => {
  it('install, second install, dry-run and uninstall on a kubeadm node, through nsenter', async () => {
    const root = makeHost(kubeadmDebian());
    const original = snapshot(root);
    const payload = fakePayload();
    const callsBefore = node.calls().length;
    const common = ['--host-root', root, ...node.flags()];

    const dry = await runCli(node, ['install', ...common, '--payload', payload, '--configure-kubelet', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /\+KUBELET_EXTRA_ARGS=--image-credential-provider-config=/);
    assert.deepEqual(snapshot(root), original);

    const first = await runCli(node, ['install', ...common, '--payload', payload, '--configure-kubelet']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '');
    assert.match(first.stderr, /info: installed: .*restarted kubelet\.service, healthy/);
    assert.equal(parse(readHost(root, '/etc/kubernetes/credential-provider/config.yaml')).providers[0].name, 'aliyun-acr-credential-provider');

    const second = await runCli(node, ['install', ...common, '--payload', payload, '--configure-kubelet']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /nothing to change, no restart/);

    const un = await runCli(node, ['uninstall', ...common]);
    assert.equal(un.code, 0, un.stderr);
    assert.deepEqual(snapshot(root), original);
    const deadMan = 'aliyun-acr-credential-provider-recover';
    assert.deepEqual(node.calls().slice(callsBefore).map((c) => c.replace(/^systemd-run .*/, 'systemd-run …')), [
      '/usr/bin/kubelet --version', // dry run
      '/usr/bin/kubelet --version',
      `${CANDIDATE} --version`, // the smoke test of the new wrapper beside the old, before the switch and the kubelet's files
      `${CANDIDATE} --config /etc/kubernetes/aliyun-acr-credential-provider/config.json`,
      `systemctl stop ${deadMan}.timer`, // the dead-man timer: a stale one cleared, armed (deadman.test.ts) ...
      `systemctl reset-failed ${deadMan}.service`,
      'systemd-run …',
      'systemctl daemon-reload',
      'systemctl restart kubelet.service',
      `systemctl stop ${deadMan}.timer`, // ... and disarmed once committed
      '/usr/bin/kubelet --version', // second install
      `systemctl stop ${deadMan}.timer`, // uninstall
      `systemctl reset-failed ${deadMan}.service`,
      'systemd-run …',
      'systemctl daemon-reload',
      'systemctl restart kubelet.service',
      `systemctl stop ${deadMan}.timer`,
    ]);
  });

  it('a kubelet that fails after the change: exit 1, one line, files restored', async () => {
    const root = makeHost(kubeadmDebian());
    const original = snapshot(root);
    node.kubelet = 'bad';
    node.kubeletReads(root, ['/etc/default/kubelet']);
    try {
      const r = await runCli(node, ['install', '--host-root', root, ...node.flags('300ms'), '--payload', fakePayload(), '--configure-kubelet']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /error: install rolled back: kubelet\.service did not become healthy within 0.3s; the previous files are back and kubelet\.service was restarted \(healthy again\)/);
      assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
      assert.deepEqual(snapshot(root), original);
    } finally {
      node.kubelet = 'good';
    }
  });

  it('an unknown host: exit 2 with the flags that make it work, nothing created', async () => {
    const root = makeHost({ '/etc/hostname': 'n\n' });
    const original = snapshot(root);
    const r = await runCli(node, ['install', '--host-root', root, ...node.flags(), '--payload', fakePayload()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--layout kubeadm\|k3s\|ack\|systemd/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.deepEqual(snapshot(root), original);
  });

  it('uninstall on a --host-root that is not a node: exit 2', async () => {
    const r = await runCli(node, ['uninstall', '--host-root', makeHost({ '/etc/hostname': 'n\n' }), ...node.flags()]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /does not look like a node/);
  });

  it('without --payload outside the single-file binary: exit 2', async () => {
    const r = await runCli(node, ['install', '--host-root', makeHost(kubeadmDebian()), ...node.flags()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pass --payload DIR/);
  });

  it('the test-only --host-system flag is gone', async () => {
    const r = await runCli(node, ['install', '--host-root', makeHost(kubeadmDebian()), '--host-system', 'fake:/x', '--payload', fakePayload()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown arguments?: host-system/);
  });

  it('sync-config runs until SIGTERM and writes the node file', async () => {
    const root = makeHost({ '/etc/hostname': 'n\n' });
    const src = join(tempDir(), 'config.yaml');
    writeFileSync(src, 'timeout: 20s\n');
    const child = spawn(process.execPath, [BUNDLE, 'sync-config', '--host-root', root, '--provider-config', src, '--interval', '20ms'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const end = Date.now() + 30_000;
    while (!stderr.includes('updated') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(JSON.parse(readHost(root, '/etc/kubernetes/aliyun-acr-credential-provider/config.json')), { timeout: '20s' });
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 0);
  });
});
