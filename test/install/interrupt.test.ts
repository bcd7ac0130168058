// An interrupted install never leaves a kubelet broken. The built CLI is stopped at each step
// (before its writes, during the smoke test, after the writes, during the kubelet restart, during the health wait) with
// SIGTERM and with SIGKILL, then run again; the node must end either fully installed with the
// kubelet running the final files, or byte-identical to before with the kubelet running the
// original ones. The fake kubelet is `good` (healthy with our flags) or `bad` (cannot start with
// them); what it runs is what it loaded at its last `systemctl restart`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUNDLE, cleanup, kubeadmDebian, makeHost, snapshot, type Snapshot } from './helpers.ts';
import { fakePayload } from './fake-payload.ts';
import { FakeNode, runCli, startCli, until, type Step } from './fake-node.ts';
import { existsSync } from 'node:fs';

const KUBELET_READS = ['/etc/default/kubelet', '/etc/kubernetes/credential-provider/config.yaml'];

let payload: string;
let installed: Snapshot;

before(async () => {
  assert.ok(existsSync(BUNDLE), 'run npm run build first');
  payload = fakePayload();
  const node = await FakeNode.start();
  try {
    const root = makeHost(kubeadmDebian());
    const r = await runCli(node, installArgs(root, node));
    assert.equal(r.code, 0, r.stderr);
    installed = snapshot(root);
  } finally {
    await node.close();
  }
});
after(cleanup);

function installArgs(root: string, node: FakeNode, healthTimeout = '2s'): string[] {
  return ['install', '--host-root', root, '--payload', payload, '--configure-kubelet', ...node.flags(healthTimeout)];
}

type Point = 'before writes' | 'during the smoke test' | 'after writes' | 'during restart' | 'during the health wait';
const BLOCKS: Record<Exclude<Point, 'during the health wait'>, Step> = { 'before writes': 'version', 'during the smoke test': 'plugin', 'after writes': 'daemon-reload', 'during restart': 'restart' };

async function interruptedThenRerun(point: Point, signal: 'SIGTERM' | 'SIGKILL', kubelet: 'good' | 'bad') {
  const node = await FakeNode.start();
  try {
    const root = makeHost(kubeadmDebian());
    const original = snapshot(root);
    node.kubeletReads(root, KUBELET_READS);
    if (point === 'during the health wait') node.kubelet = 'starting';
    else node.block(BLOCKS[point]);

    const first = startCli(node, installArgs(root, node, '5s'));
    if (point === 'during the health wait') await until(() => node.healthz.requests > 0, 'the first healthz request');
    else await until(() => node.blocked(BLOCKS[point as keyof typeof BLOCKS]), `the installer to reach ${point}`);
    first.child.kill(signal);
    // What the node does next, whether or not the installer is still there.
    node.kubelet = kubelet;
    if (point !== 'during the health wait') node.release(BLOCKS[point]);
    const end = await first.exited;
    if (signal === 'SIGKILL') assert.equal(end.signal, 'SIGKILL');

    const rerun = await runCli(node, installArgs(root, node));
    const detail = `first run:\n${first.stderr()}\nrerun (exit ${rerun.code}):\n${rerun.stderr}`;
    if (kubelet === 'good') {
      assert.equal(rerun.code, 0, detail);
      assert.deepEqual(snapshot(root), installed, `fully installed\n${detail}`);
      assert.equal(node.loaded(), node.current(root, KUBELET_READS), `the kubelet runs the installed files\n${detail}`);
    } else {
      assert.notEqual(rerun.code, 0, `a kubelet that cannot start with the flags is not reported installed\n${detail}`);
      assert.deepEqual(snapshot(root), original, `byte-identical to before\n${detail}`);
      const loaded = node.loaded();
      assert.ok(loaded === '' || loaded === node.current(root, KUBELET_READS), `the kubelet runs the original files\n${detail}`);
    }
  } finally {
    await node.close();
  }
}

describe('install interrupted at each step, then run again', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    for (const point of ['before writes', 'during the smoke test', 'after writes', 'during restart', 'during the health wait'] as const) {
      for (const kubelet of ['good', 'bad'] as const) {
        it(`${signal} ${point}, rerun with a ${kubelet} kubelet: ${kubelet === 'good' ? 'fully installed, kubelet runs it' : 'byte-identical to before'}`, () => interruptedThenRerun(point, signal, kubelet));
      }
    }
  }
});

describe('two installers on one node', () => {
  it('the second waits for the first to finish its transaction, then finds nothing to do', async () => {
    const node = await FakeNode.start();
    try {
      const root = makeHost(kubeadmDebian());
      node.block('restart');
      const first = startCli(node, installArgs(root, node));
      await until(() => node.blocked('restart'), 'the first installer to restart the kubelet');
      const second = startCli(node, installArgs(root, node));
      await until(() => /waiting for the installer with pid \d+ to finish/.test(second.stderr()), 'the second installer to wait');
      node.release('restart');
      const [a, b] = await Promise.all([first.exited, second.exited]);
      assert.equal(a.code, 0, first.stderr());
      assert.equal(b.code, 0, second.stderr());
      assert.match(second.stderr(), /already installed: nothing to change, no restart/);
      assert.deepEqual(snapshot(root), installed);
      assert.equal(node.restarts().length, 1);
    } finally {
      await node.close();
    }
  });
});
