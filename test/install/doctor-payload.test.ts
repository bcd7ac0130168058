// doctor runs the installer's smoke test on the installed provider (through nsenter, here the
// fake one: chroot into the host tree) and re-checks the installed payload against its manifest.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withCloud, type Cloud } from '../helpers/cloud.ts';
import { payloadId } from '../../src/payload/manifest.ts';
import { BUNDLE, cleanup, kubeadmDebian, makeHost } from './helpers.ts';
import { fakePayload, manifestOf } from './fake-payload.ts';
import { FakeNode, runCli } from './fake-node.ts';

interface Report {
  checks: Array<{ id: string; status: string; message: string }>;
}

const WRAPPER = '/etc/kubernetes/credential-provider/bin/aliyun-acr-credential-provider';

let node: FakeNode;
before(async () => {
  assert.ok(existsSync(BUNDLE), 'run npm run build first');
  node = await FakeNode.start();
});
after(async () => {
  await node.close();
  cleanup();
});

async function installed(payload: string): Promise<string> {
  const root = makeHost(kubeadmDebian());
  const r = await runCli(node, ['install', '--host-root', root, '--payload', payload, '--configure-kubelet', ...node.flags()]);
  assert.equal(r.code, 0, r.stderr);
  return root;
}

async function doctor(c: Cloud, root: string): Promise<Map<string, { status: string; message: string }>> {
  const r = await c.run({ args: ['doctor', '--output', 'json', '--host-root', root], env: { ...node.env() } });
  const report = JSON.parse(r.stdout) as Report;
  return new Map(report.checks.map((x) => [x.id, x]));
}

describe('doctor: the installed payload', () => {
  it('an intact install: the payload matches its manifest and the wrapper passes the smoke test', () =>
    withCloud(async (c) => {
      const payload = fakePayload();
      const root = await installed(payload);
      const checks = await doctor(c, root);
      const dir = `/etc/kubernetes/credential-provider/bin/.aliyun-acr-credential-provider/${payloadId(manifestOf(payload))}`;
      assert.deepEqual(checks.get('kubelet.payload'), { id: 'kubelet.payload', status: 'pass', message: `${WRAPPER} runs ${dir} (0.1.0, ${manifestOf(payload).arch}): 4 files match their manifest` });
      assert.equal(checks.get('kubelet.smoke-test')?.status, 'pass', checks.get('kubelet.smoke-test')?.message);
      assert.ok(node.pluginRuns().includes(`${WRAPPER} --config /etc/kubernetes/aliyun-acr-credential-provider/config.json`));
    }));

  it('a library removed from the installed payload: fails, naming it, and says to re-run install', () =>
    withCloud(async (c) => {
      const payload = fakePayload();
      const root = await installed(payload);
      rmSync(join(root, `/etc/kubernetes/credential-provider/bin/.aliyun-acr-credential-provider/${payloadId(manifestOf(payload))}/lib/libc.so.6`));
      const checks = await doctor(c, root);
      assert.equal(checks.get('kubelet.payload')?.status, 'fail');
      assert.match(checks.get('kubelet.payload')?.message ?? '', /\/lib\/libc\.so\.6 is missing: the installed payload is damaged; re-run install/);
    }));

  it('a node that cannot run the wrapper (its /bin/sh gone): the smoke test fails with what the node said', () =>
    withCloud(async (c) => {
      const root = await installed(fakePayload());
      rmSync(join(root, '/bin/sh'));
      const checks = await doctor(c, root);
      assert.equal(checks.get('kubelet.payload')?.status, 'pass');
      assert.equal(checks.get('kubelet.smoke-test')?.status, 'fail');
      assert.match(checks.get('kubelet.smoke-test')?.message ?? '', /aliyun-acr-credential-provider --version exited 127: .*No such file or directory; the node lacks what the wrapper needs \(\/bin\/sh\)/);
    }));

  it('a bare binary where the wrapper belongs (installed before the payload existed): a warning to re-run install', () =>
    withCloud(async (c) => {
      const root = await installed(fakePayload());
      writeFileSync(join(root, WRAPPER), Buffer.alloc(100 * 1024, 1));
      const checks = await doctor(c, root);
      assert.equal(checks.get('kubelet.payload')?.status, 'warn');
      assert.match(checks.get('kubelet.payload')?.message ?? '', /is not the wrapper of a payload directory .*re-run install/);
      assert.equal(checks.get('kubelet.smoke-test'), undefined);
    }));
});
