// The dead-man switch: a SIGKILLed installer (OOM, runtime kill) must not leave a kubelet broken
// until a human comes, since the "next run" is a pod that a dead kubelet never starts. Before its
// first kubelet restart the installer arms a host-side transient timer (systemd-run through
// nsenter) that runs `recover` from the payload directory; the end of the transaction disarms it.
// The fake nsenter records the timer; the test then runs the recorded command as systemd would,
// with the built bundle standing in for the payload's loader and binary and the test's tree for
// the host root, every other argument as recorded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { BUNDLE, cleanup, kubeadmDebian, makeHost, snapshot } from './helpers.ts';
import { fakePayload } from './fake-payload.ts';
import { FakeNode, runCli, startCli, until } from './fake-node.ts';

const KUBELET_READS = ['/etc/default/kubelet', '/etc/kubernetes/credential-provider/config.yaml'];
const UNIT = 'aliyun-acr-credential-provider-recover';
const PAYLOAD_BASE = '/etc/kubernetes/credential-provider/bin/.aliyun-acr-credential-provider/';

let payload: string;
before(() => {
  assert.ok(existsSync(BUNDLE), 'run npm run build first');
  payload = fakePayload();
});
after(cleanup);

function installArgs(root: string, node: FakeNode, healthTimeout = '2s'): string[] {
  return ['install', '--host-root', root, '--payload', payload, '--configure-kubelet', ...node.flags(healthTimeout)];
}

/**
 * The recorded systemd-run, checked for its shape, and the command its service would run, made
 * runnable here: the payload's loader, its options and binary become this bundle, `--host-root /`
 * becomes the test's tree.
 */
function timerCommand(node: FakeNode, root: string): string[] {
  const armed = node.lastArmed();
  assert.ok(armed, `a timer was armed; host commands: ${node.calls().join(' | ')}`);
  assert.ok(armed.includes(`--unit=${UNIT}`), armed.join(' '));
  assert.ok(armed.includes('--timer-property=AccuracySec=1s'), armed.join(' '));
  const delay = armed.find((a) => a.startsWith('--on-active='));
  const command = armed.slice(armed.indexOf('--') + 1);
  const [loader, inhibit, libraryPath, lib, binary, subcommand, ...rest] = command;
  assert.match(loader ?? '', new RegExp(`^${PAYLOAD_BASE}[^/]+/lib/ld-linux-[^/]+$`), command.join(' '));
  assert.deepEqual([inhibit, libraryPath, lib], ['--inhibit-cache', '--library-path', `${(loader ?? '').replace(/\/[^/]+$/, '')}`]);
  assert.equal(binary, `${(lib ?? '').replace(/\/lib$/, '')}/aliyun-acr-credential-provider`);
  assert.ok(existsSync(`${root}${binary}`), `the payload the timer runs is there: ${binary}`);
  assert.equal(subcommand, 'recover');
  const at = rest.indexOf('--host-root');
  assert.equal(rest[at + 1], '/');
  // Long enough for the health wait, the rollback's restart and a second health wait.
  const timeout = rest[rest.indexOf('--health-timeout') + 1] ?? '';
  assert.ok(Number(delay?.replace(/^--on-active=(\d+)s$/, '$1')) > (2 * Number(timeout.replace(/ms$/, ''))) / 1000, `${delay} covers two health waits of ${timeout}`);
  return ['recover', ...rest.slice(0, at + 1), root, ...rest.slice(at + 2)];
}

describe('dead-man switch: a SIGKILLed installer is finished by a host timer', () => {
  it('install SIGKILLed during the health wait with a kubelet that cannot start with it: the timer rolls it back', async () => {
    const node = await FakeNode.start();
    try {
      const root = makeHost(kubeadmDebian());
      const original = snapshot(root);
      node.kubeletReads(root, KUBELET_READS);
      const originalFiles = node.current(root, KUBELET_READS);
      node.kubelet = 'bad';
      const first = startCli(node, installArgs(root, node, '3s'));
      await until(() => node.healthz.requests > 0, 'the health wait');
      first.child.kill('SIGKILL');
      assert.equal((await first.exited).signal, 'SIGKILL');
      assert.ok(node.timerArmed(), `the timer is still armed after the kill: ${node.calls().join(' | ')}`);

      const recover = await runCli(node, timerCommand(node, root));
      const detail = `install:\n${first.stderr()}\nrecover (exit ${recover.code}):\n${recover.stderr}`;
      assert.equal(recover.code, 1, `a rollback is reported as a failure\n${detail}`);
      assert.match(recover.stderr, /recover: found an unfinished install .*rolled back/, detail);
      assert.deepEqual(snapshot(root), original, `byte-identical to before the install\n${detail}`);
      assert.equal(node.loaded(), originalFiles, `the kubelet runs the original files\n${detail}`);
      assert.equal(node.healthz.judge(), true, 'and is healthy');
      assert.equal(node.timerArmed(), false, 'recover disarms its timer');
    } finally {
      await node.close();
    }
  });

  it('install SIGKILLed just after arming, before its journal reached the restart: the timer puts the files back, no restart', async () => {
    const node = await FakeNode.start();
    try {
      const root = makeHost(kubeadmDebian());
      const original = snapshot(root);
      node.kubeletReads(root, KUBELET_READS);
      node.block('arm');
      const first = startCli(node, installArgs(root, node));
      await until(() => node.blocked('arm'), 'the installer arming its timer');
      first.child.kill('SIGKILL');
      assert.equal((await first.exited).signal, 'SIGKILL');
      node.release('arm'); // systemd-run had been asked: the timer exists
      await until(() => node.timerArmed(), 'the timer armed');
      const recover = await runCli(node, timerCommand(node, root));
      const detail = `recover (exit ${recover.code}):\n${recover.stderr}`;
      assert.equal(recover.code, 0, detail);
      assert.match(recover.stderr, /recover: found an unfinished install stopped at "applying": put the previous files back/, detail);
      assert.deepEqual(snapshot(root), original, `byte-identical to before the install\n${detail}`);
      assert.ok(!node.calls().some((c) => c.startsWith('systemctl restart')), `the kubelet was never restarted: ${node.calls().join(' | ')}`);
    } finally {
      await node.close();
    }
  });

  it('uninstall SIGKILLed during the health wait with a kubelet that cannot start without the provider: the timer puts it back', async () => {
    const node = await FakeNode.start();
    try {
      const root = makeHost(kubeadmDebian());
      node.kubeletReads(root, KUBELET_READS);
      const install = await runCli(node, installArgs(root, node));
      assert.equal(install.code, 0, install.stderr);
      const installed = snapshot(root);
      const installedFiles = node.current(root, KUBELET_READS);
      assert.equal(node.loaded(), installedFiles);
      node.kubelet = 'needs-provider';
      const seen = node.healthz.requests;

      const first = startCli(node, ['uninstall', '--host-root', root, ...node.flags('3s')]);
      await until(() => node.loaded() !== installedFiles && node.healthz.requests > seen, 'the health wait after the uninstall restart');
      first.child.kill('SIGKILL');
      assert.equal((await first.exited).signal, 'SIGKILL');

      const recover = await runCli(node, timerCommand(node, root));
      const detail = `uninstall:\n${first.stderr()}\nrecover (exit ${recover.code}):\n${recover.stderr}`;
      assert.equal(recover.code, 1, detail);
      assert.match(recover.stderr, /recover: found an unfinished uninstall .*rolled back/, detail);
      assert.deepEqual(snapshot(root), installed, `byte-identical to before the uninstall\n${detail}`);
      assert.equal(node.loaded(), installedFiles, `the kubelet runs the installed files again\n${detail}`);
      assert.equal(node.healthz.judge(), true, 'and is healthy');
    } finally {
      await node.close();
    }
  });

  it('a normal install arms before its restart and disarms after; the timer, fired later, finds nothing and changes nothing', async () => {
    const node = await FakeNode.start();
    try {
      const root = makeHost(kubeadmDebian());
      node.kubeletReads(root, KUBELET_READS);
      const install = await runCli(node, installArgs(root, node));
      assert.equal(install.code, 0, install.stderr);
      const calls = node.calls();
      const arm = calls.findIndex((c) => c.startsWith('systemd-run '));
      const restart = calls.findIndex((c) => c.startsWith('systemctl restart '));
      const disarm = calls.findLastIndex((c) => c === `systemctl stop ${UNIT}.timer`);
      assert.ok(arm >= 0 && arm < restart && restart < disarm, `arm, restart, disarm: ${calls.join(' | ')}`);
      assert.equal(node.timerArmed(), false);
      assert.doesNotMatch(install.stderr, /warn/i, install.stderr);
      const installed = snapshot(root);
      const loaded = node.loaded();

      const recover = await runCli(node, timerCommand(node, root));
      assert.equal(recover.code, 0, recover.stderr);
      assert.match(recover.stderr, /recover: no unfinished install or uninstall/);
      assert.deepEqual(snapshot(root), installed);
      assert.equal(node.loaded(), loaded);
      assert.equal(node.restarts().length, 1, 'no restart by recover');
    } finally {
      await node.close();
    }
  });

  it('the timer firing while the installer is alive waits for its lock, then does nothing after it committed', async () => {
    const node = await FakeNode.start();
    try {
      const root = makeHost(kubeadmDebian());
      node.kubeletReads(root, KUBELET_READS);
      node.block('restart');
      const install = startCli(node, installArgs(root, node));
      await until(() => node.blocked('restart'), 'the installer to restart the kubelet');
      const timer = startCli(node, timerCommand(node, root));
      await until(() => /waiting for the installer with pid \d+ to finish/.test(timer.stderr()), 'recover to wait for the lock');
      node.release('restart');
      const [a, b] = await Promise.all([install.exited, timer.exited]);
      assert.equal(a.code, 0, install.stderr());
      assert.equal(b.code, 0, timer.stderr());
      assert.match(timer.stderr(), /recover: .*nothing to do/);
      assert.equal(node.restarts().length, 1, 'recover restarted nothing');
      assert.equal(node.loaded(), node.current(root, KUBELET_READS));
    } finally {
      await node.close();
    }
  });

  it('no systemd-run on the host: a warning, and the install goes on', async () => {
    const node = await FakeNode.start();
    try {
      const root = makeHost(kubeadmDebian());
      node.kubeletReads(root, KUBELET_READS);
      node.fail('arm', 'nsenter: failed to execute systemd-run: No such file or directory');
      const install = await runCli(node, installArgs(root, node));
      assert.equal(install.code, 0, install.stderr);
      assert.match(install.stderr, /warn.*no dead-man timer.*systemd-run: No such file or directory/i);
      assert.equal(node.restarts().length, 1);
      assert.equal(node.loaded(), node.current(root, KUBELET_READS));
    } finally {
      await node.close();
    }
  });
});
