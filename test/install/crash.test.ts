// A crash (SIGKILL) at every single change install or uninstall makes to the node, journal and
// state included, then a run of the CLI: the node ends fully installed with the kubelet running
// the final files (install), or exactly as before the install (uninstall).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE, REPO_ROOT, cleanup,  kubeadmDebian, makeHost, snapshot, writeFile, type Snapshot } from './helpers.ts';
import { fakePayload } from './fake-payload.ts';
import { FakeNode, runCli } from './fake-node.ts';

const FIXTURE = join(REPO_ROOT, 'test', 'install', 'fixtures', 'crash-at-change.ts');
const KUBELET_READS = ['/etc/default/kubelet', '/etc/kubernetes/credential-provider/config.yaml'];

let node: FakeNode;
let binary: string;
before(async () => {
  assert.ok(existsSync(BUNDLE), 'run npm run build first');
  node = await FakeNode.start();
  binary = fakePayload();
});
after(async () => {
  await node.close();
  cleanup();
});

/** A new binary and a provider config with a custom domain: the kubelet config changes too. */
interface Upgrade {
  binary: string;
  providerConfig: string;
}

/** Runs the fixture (asynchronously: this process serves its healthz). */
function fixture(operation: 'install' | 'uninstall', root: string, killAt: number, upgrade?: Upgrade): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const args = upgrade ? [upgrade.binary, String(killAt), node.healthz.url, upgrade.providerConfig] : [binary, String(killAt), node.healthz.url];
  const child = spawn(process.execPath, [FIXTURE, operation, root, ...args], { env: node.env() });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
}

/** The number of changes a clean run makes, and the tree it leaves. */
async function cleanRun(operation: 'install' | 'uninstall', root: string, upgrade?: Upgrade): Promise<{ changes: number; tree: Snapshot }> {
  const r = await fixture(operation, root, 0, upgrade);
  assert.equal(r.status, 0, r.stderr);
  return { changes: Number(r.stdout.trim()), tree: snapshot(root) };
}

describe('a crash at every change', () => {
  it('install: killed before each of its changes, the next install ends fully installed and the kubelet runs it', async () => {
    const reference = await cleanRun('install', makeHost(kubeadmDebian()));
    assert.ok(reference.changes >= 10, `changes counted: ${reference.changes}`);
    for (let k = 1; k <= reference.changes; k++) {
      const root = makeHost(kubeadmDebian());
      node.kubeletReads(root, KUBELET_READS);
      const crashed = await fixture('install', root, k);
      assert.equal(crashed.signal, 'SIGKILL', `change ${k}: ${crashed.stderr}`);
      const rerun = await runCli(node, ['install', '--host-root', root, '--payload', binary, '--configure-kubelet', ...node.flags()]);
      assert.equal(rerun.code, 0, `change ${k}: ${rerun.stderr}`);
      assert.deepEqual(snapshot(root), reference.tree, `killed before change ${k}:\n${crashed.stderr}\n${rerun.stderr}`);
      assert.equal(node.loaded(), node.current(root, KUBELET_READS), `killed before change ${k}: the kubelet runs the installed files`);
    }
  });

  it('upgrade (new binary, new matchImages): killed before each of its changes, the next install ends fully upgraded', async () => {
    const upgrade = { binary: fakePayload({ build: 2 }), providerConfig: writeFile('registries:\n  - domains: [registry.example.com]\n') };
    const probe = makeHost(kubeadmDebian());
    await cleanRun('install', probe);
    const reference = await cleanRun('install', probe, upgrade);
    assert.ok(reference.changes >= 8, `changes counted: ${reference.changes}`);
    for (let k = 1; k <= reference.changes; k++) {
      const root = makeHost(kubeadmDebian());
      await cleanRun('install', root);
      node.kubeletReads(root, KUBELET_READS);
      const crashed = await fixture('install', root, k, upgrade);
      assert.equal(crashed.signal, 'SIGKILL', `change ${k}: ${crashed.stderr}`);
      const rerun = await runCli(node, ['install', '--host-root', root, '--payload', upgrade.binary, '--provider-config', upgrade.providerConfig, '--configure-kubelet', ...node.flags()]);
      assert.equal(rerun.code, 0, `change ${k}: ${rerun.stderr}`);
      assert.deepEqual(snapshot(root), reference.tree, `killed before change ${k}:\n${crashed.stderr}\n${rerun.stderr}`);
      assert.equal(node.loaded(), node.current(root, KUBELET_READS), `killed before change ${k}: the kubelet runs the upgraded files`);
    }
  });

  it('uninstall: killed before each of its changes, the next uninstall leaves the node as before the install', async () => {
    const original = snapshot(makeHost(kubeadmDebian()));
    const probe = makeHost(kubeadmDebian());
    await cleanRun('install', probe);
    const reference = await cleanRun('uninstall', probe);
    assert.deepEqual(reference.tree, original);
    for (let k = 1; k <= reference.changes; k++) {
      const root = makeHost(kubeadmDebian());
      await cleanRun('install', root);
      node.kubeletReads(root, KUBELET_READS);
      const crashed = await fixture('uninstall', root, k);
      assert.equal(crashed.signal, 'SIGKILL', `change ${k}: ${crashed.stderr}`);
      const rerun = await runCli(node, ['uninstall', '--host-root', root, ...node.flags()]);
      assert.equal(rerun.code, 0, `change ${k}: ${rerun.stderr}`);
      assert.deepEqual(snapshot(root), original, `killed before change ${k}:\n${crashed.stderr}\n${rerun.stderr}`);
      assert.equal(node.loaded(), node.current(root, KUBELET_READS), `killed before change ${k}: the kubelet runs the original files`);
    }
  });
});
