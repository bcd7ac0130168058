// A crash (SIGKILL) at every single change install or uninstall makes to the node, journal and
// state included, every file of the payload directory and the wrapper's switch among them, then a
// run of the CLI: the node ends fully installed with the kubelet running the final files
// (install), or exactly as before the install (uninstall). Between the crash and the rerun, the
// wrapper, if there is one, runs the old or the new version: never a half-copied directory.
// SIGTERM at the payload copy and at the switch does not stop the install.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BUNDLE, REPO_ROOT, cleanup, kubeadmDebian, makeHost, runInChroot, snapshot, writeFile, type Snapshot } from './helpers.ts';
import { fakePayload } from './fake-payload.ts';
import { FakeNode, runCli } from './fake-node.ts';

const FIXTURE = join(REPO_ROOT, 'test', 'install', 'fixtures', 'crash-at-change.ts');
const KUBELET_READS = ['/etc/default/kubelet', '/etc/kubernetes/credential-provider/config.yaml'];
const WRAPPER = '/etc/kubernetes/credential-provider/bin/aliyun-acr-credential-provider';

/** What the kubelet would get from the wrapper now: its version, or undefined when there is none. */
async function wrapperVersion(root: string): Promise<string | undefined> {
  if (!existsSync(join(root, WRAPPER))) return undefined;
  const r = await runInChroot(root, WRAPPER, ['--version'], '');
  assert.equal(r.code, 0, `the wrapper runs: ${r.stderr}`);
  return r.stdout.trim();
}

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
function fixture(operation: 'install' | 'uninstall', root: string, killAt: number, upgrade?: Upgrade, env: Record<string, string> = {}): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const args = upgrade ? [upgrade.binary, String(killAt), node.healthz.url, upgrade.providerConfig] : [binary, String(killAt), node.healthz.url];
  const child = spawn(process.execPath, [FIXTURE, operation, `--host-root=${root}`, ...args], { env: { ...node.env(), ...env } });
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
      assert.ok([undefined, '0.1.0'].includes(await wrapperVersion(root)), `killed before change ${k}`);
      const rerun = await runCli(node, ['install', '--host-root', root, '--payload', binary, '--configure-kubelet', ...node.flags()]);
      assert.equal(rerun.code, 0, `change ${k}: ${rerun.stderr}`);
      assert.deepEqual(snapshot(root), reference.tree, `killed before change ${k}:\n${crashed.stderr}\n${rerun.stderr}`);
      assert.equal(node.loaded(), node.current(root, KUBELET_READS), `killed before change ${k}: the kubelet runs the installed files`);
    }
  });

  it('upgrade (new binary, new matchImages): killed before each of its changes, the next install ends fully upgraded', async () => {
    const upgrade = { binary: fakePayload({ version: '0.2.0' }), providerConfig: writeFile('registries:\n  - domains: [registry.example.com]\n') };
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
      const running = await wrapperVersion(root);
      assert.ok(running === '0.1.0' || running === '0.2.0', `killed before change ${k}: the wrapper runs ${running}`);
      const rerun = await runCli(node, ['install', '--host-root', root, '--payload', upgrade.binary, '--provider-config', upgrade.providerConfig, '--configure-kubelet', ...node.flags()]);
      assert.equal(rerun.code, 0, `change ${k}: ${rerun.stderr}`);
      assert.deepEqual(snapshot(root), reference.tree, `killed before change ${k}:\n${crashed.stderr}\n${rerun.stderr}`);
      assert.equal(node.loaded(), node.current(root, KUBELET_READS), `killed before change ${k}: the kubelet runs the upgraded files`);
    }
  });

  it('named points: SIGKILL during the payload copy and just before / just after the switch; SIGTERM there does not stop the upgrade', async () => {
    const upgrade = { binary: fakePayload({ version: '0.2.0' }), providerConfig: writeFile('registries:\n  - domains: [registry.example.com]\n') };
    const probe = makeHost(kubeadmDebian());
    await cleanRun('install', probe);
    const listed = await fixture('install', probe, 0, upgrade, { LIST_STEPS: '1' });
    const reference = snapshot(probe);
    const stepOf = (pattern: RegExp) => Number(listed.stderr.split('\n').find((l) => pattern.test(l))?.match(/^step (\d+):/)?.[1]);
    const points = {
      'the payload copy (the binary)': stepOf(/^step \d+: copy \S+\.tmp\/aliyun-acr-credential-provider$/),
      'the new wrapper written beside the old (the candidate)': stepOf(/^step \d+: write \S+\/\.aliyun-acr-credential-provider\.candidate$/),
      'the switch (the candidate renamed over the wrapper)': stepOf(new RegExp(`^step \\d+: rename \\S+\\.candidate ${basename(WRAPPER)}$`)),
    };
    points['just after the switch' as keyof typeof points] = points['the switch (the candidate renamed over the wrapper)'] + 1;
    for (const [name, k] of Object.entries(points)) {
      assert.ok(k > 0, `${name}: ${listed.stderr}`);
      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        const root = makeHost(kubeadmDebian());
        await cleanRun('install', root);
        node.kubeletReads(root, KUBELET_READS);
        const run = await fixture('install', root, k, upgrade, { SIGNAL: signal });
        if (signal === 'SIGKILL') {
          assert.equal(run.signal, 'SIGKILL', `${name}: ${run.stderr}`);
          const running = await wrapperVersion(root);
          assert.equal(running, name === 'just after the switch' ? '0.2.0' : '0.1.0', `${name}: the wrapper runs a complete version`);
          const rerun = await runCli(node, ['install', '--host-root', root, '--payload', upgrade.binary, '--provider-config', upgrade.providerConfig, '--configure-kubelet', ...node.flags()]);
          assert.equal(rerun.code, 0, rerun.stderr);
        } else {
          assert.equal(run.status, 0, `${name}: SIGTERM does not stop it: ${run.stderr}`);
        }
        assert.deepEqual(snapshot(root), reference, `${signal} at ${name}`);
        assert.equal(await wrapperVersion(root), '0.2.0');
        assert.equal(node.loaded(), node.current(root, KUBELET_READS), `${signal} at ${name}: the kubelet runs the upgraded files`);
      }
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
