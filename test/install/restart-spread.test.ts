// First install across a cluster: `kubectl apply` starts every node's installer at once, and
// maxUnavailable only paces updates. Each node waits a delay derived from its name, within a
// window, before it changes anything that needs a kubelet restart; nothing needing a restart
// means no wait. Assertions are on what the installer reports, never on wall time.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spreadDelayMs } from '../../src/install/restart-spread.ts';
import { BUNDLE, cleanup, kubeadmDebian, makeHost, snapshot } from './helpers.ts';
import { fakePayload } from './fake-payload.ts';
import { FakeNode, runCli, startCli, until } from './fake-node.ts';

let node: FakeNode;
let payload: string;
before(async () => {
  assert.ok(existsSync(BUNDLE), 'run npm run build first');
  node = await FakeNode.start();
  payload = fakePayload();
});
after(async () => {
  await node.close();
  cleanup();
});

const install = (root: string, window: string) => ['install', '--host-root', root, '--payload', payload, '--configure-kubelet', '--restart-spread', window, ...node.flags()];
const WAIT_LINE = /info: restart spread: waiting (\d+)ms \(node "([^"]+)", window (\S+)\) before changing the kubelet/;

describe('restart spread', () => {
  it('a delay per node name: the same name gives the same delay, always inside the window, names spread across it', () => {
    const window = 300_000;
    const delays = Array.from({ length: 200 }, (_, i) => spreadDelayMs(`node-${i}.cn-hangzhou.ecs.internal`, window));
    for (const d of delays) assert.ok(Number.isInteger(d) && d >= 0 && d < window, String(d));
    assert.equal(spreadDelayMs('node-7.cn-hangzhou.ecs.internal', window), delays[7]);
    const quarters = [0, 1, 2, 3].map((q) => delays.filter((d) => Math.floor(d / (window / 4)) === q).length);
    for (const n of quarters) assert.ok(n >= 20, `spread over the window: ${quarters.join(', ')}`);
    assert.equal(spreadDelayMs('any', 0), 0);
  });

  it('first install with a restart to do: reports the node\'s delay, then installs', async () => {
    const root = makeHost(kubeadmDebian());
    const r = await runCli(node, install(root, '2s'), { NODE_NAME: 'worker-1' });
    assert.equal(r.code, 0, r.stderr);
    const m = WAIT_LINE.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.equal(Number(m[1]), spreadDelayMs('worker-1', 2000));
    assert.equal(m[2], 'worker-1');
    assert.match(r.stderr, /info: installed: .*restarted kubelet\.service, healthy/);
  });

  it('no wait when nothing needs a restart: a second run, or no kubelet restart in the plan', async () => {
    const root = makeHost(kubeadmDebian());
    assert.equal((await runCli(node, install(root, '2s'), { NODE_NAME: 'worker-2' })).code, 0);
    const again = await runCli(node, install(root, '2s'), { NODE_NAME: 'worker-2' });
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /restart spread/);
    const upgrade = await runCli(node, ['install', '--host-root', root, '--payload', fakePayload({ build: 2 }), '--configure-kubelet', '--restart-spread', '2s', ...node.flags()], { NODE_NAME: 'worker-2' });
    assert.equal(upgrade.code, 0, upgrade.stderr);
    assert.match(upgrade.stderr, /installed \S+\/\.aliyun-acr-credential-provider\/0\.1\.0-\w+-[0-9a-f]{16} \(4 files, \d+ bytes\), updated \/etc\/kubernetes\/credential-provider\/bin\/aliyun-acr-credential-provider; the provider passed its smoke test; no restart needed/);
    assert.doesNotMatch(upgrade.stderr, /restart spread/);
  });

  it('nothing is written during the wait (a kubelet restarted meanwhile picks up nothing), and SIGTERM then leaves the node as it was', async () => {
    const window = 3_600_000;
    const name = Array.from({ length: 50 }, (_, i) => `worker-${i}`).find((n) => spreadDelayMs(n, window) > 600_000) as string;
    const root = makeHost(kubeadmDebian());
    const original = snapshot(root);
    const run = startCli(node, install(root, '1h'), { NODE_NAME: name });
    try {
      await until(() => WAIT_LINE.test(run.stderr()), 'the restart spread line');
      // Only the installer's own lock, which the kubelet never reads, exists while it waits.
      const stateDir = '/var/lib/aliyun-acr-credential-provider';
      const waiting = Object.fromEntries(Object.entries(snapshot(root)).filter(([path]) => !path.startsWith(stateDir)));
      assert.deepEqual(waiting, original);
      run.child.kill('SIGTERM');
      const end = await run.exited;
      assert.equal(end.code, 1, run.stderr());
      assert.match(run.stderr(), /stopped by SIGTERM before changing anything on the node/);
      assert.deepEqual(snapshot(root), original);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
