// Every host path resolves inside the host root as a chroot would: absolute symlink targets start
// again at the host root, relative ones at their directory, `..` stops at the root. Install
// succeeds through symlinked directories at every level (the data-disk layout among them), never
// writes outside the host root, and refuses what a local user could redirect.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { HostFs } from '../../src/install/host-fs.ts';
import { runInstall } from '../../src/install/install.ts';
import { runUninstall } from '../../src/install/uninstall.ts';
import { BUNDLE, cleanup, context, fakeState, inputs, k3sNode, kubeadmDebian, makeHost, modeOf, readHost, rejects, snapshot, tempDir } from './helpers.ts';
import { fakePayload } from './fake-payload.ts';
import { FakeNode } from './fake-node.ts';

after(cleanup);

const OURS = 'aliyun-acr-credential-provider';

describe('HostFs resolves like a chroot', () => {
  const root = makeHost({
    '/real/dir/file': 'x\n',
    '/abs': { symlink: '/real' },
    '/rel': { symlink: 'real/dir' },
    '/real/up': { symlink: '../real/dir' },
    '/real/escape': { symlink: '../../../../../../../../etc' },
    '/real/abs-escape': { symlink: '/../../../etc/passwd' },
    '/loop1': { symlink: '/loop2' },
    '/loop2': { symlink: '/loop1' },
  });
  const fs = new HostFs(root);
  const table: [string, string][] = [
    ['/abs/dir/file', '/real/dir/file'],
    ['/rel/file', '/real/dir/file'],
    ['/real/up/file', '/real/dir/file'],
    ['/abs/../real/dir/../dir/./file', '/real/dir/file'],
    ['/../../abs/dir', '/real/dir'],
    ['/real/escape/passwd', '/etc/passwd'],
    ['/real/abs-escape', '/etc/passwd'],
    ['/abs/missing/deeper', '/real/missing/deeper'],
    ['/abs/missing/../dir/file', '/real/dir/file'],
  ];
  for (const [path, expected] of table) {
    it(`${path} -> ${expected}`, () => {
      assert.equal(fs.realHostPath(path), expected);
      assert.equal(fs.resolve(path), join(root, expected));
    });
  }
  it('a symlink loop is an error, not a hang', () => {
    assert.throws(() => fs.realHostPath('/loop1/x'), /too many levels of symbolic links/);
  });
});

describe('install through symlinked directories', () => {
  for (const level of ['/etc', '/etc/kubernetes', '/etc/kubernetes/credential-provider', '/etc/kubernetes/credential-provider/bin']) {
    for (const kind of ['absolute', 'relative'] as const) {
      it(`${level} is an ${kind} symlink: install writes through it, uninstall restores the tree`, async () => {
        const root = makeHost(kubeadmDebian({ '/etc/kubernetes/credential-provider/bin/.keep': '' }));
        const moved = `/moved${level}`;
        mkdirSync(dirname(join(root, moved)), { recursive: true });
        renameSync(join(root, level), join(root, moved));
        const relative = `${'../'.repeat(level.split('/').length - 2)}${moved.slice(1)}`;
        symlinkSync(kind === 'absolute' ? moved : relative, join(root, level));
        const before = snapshot(root);
        const host = fakeState({});
        await runInstall(context(root, host).ctx, inputs(fakePayload()));
        const binary = `${moved}${'/etc/kubernetes/credential-provider/bin'.slice(level.length)}/${OURS}`;
        assert.equal(modeOf(root, binary), 0o755, binary);
        assert.match(new HostFs(root).readText('/etc/default/kubelet') ?? '', /--image-credential-provider-config=\/etc\/kubernetes\/credential-provider\/config\.yaml/);
        await runUninstall(context(root, host).ctx);
        assert.deepEqual(snapshot(root), before);
      });
    }
  }

  it('an absolute symlink to a path that also exists in the pod: the host path is used, the pod path is untouched', async () => {
    const outside = tempDir('acr-pod-side-');
    const root = makeHost(kubeadmDebian({ '/etc/kubernetes/.keep': '' }));
    mkdirSync(join(root, outside), { recursive: true });
    symlinkSync(outside, join(root, '/etc/kubernetes/credential-provider'));
    await runInstall(context(root, fakeState({})).ctx, inputs(fakePayload()));
    assert.deepEqual(readdirSync(outside), [], 'nothing written outside the host root');
    assert.equal(modeOf(root, join(outside, 'bin', OURS)), 0o755);
  });

  it('a relative symlink climbing out of the host root stays inside it', async () => {
    const root = makeHost(kubeadmDebian({ '/etc/kubernetes/.keep': '' }));
    symlinkSync('../../../../../../../../../../../escaped', join(root, '/etc/kubernetes/credential-provider'));
    await runInstall(context(root, fakeState({})).ctx, inputs(fakePayload()));
    assert.equal(modeOf(root, `/escaped/bin/${OURS}`), 0o755);
    assert.ok(!existsSync(join(dirname(root), 'escaped')));
  });

  it('k3s on the data-disk layout (/var/lib/rancher -> /data/rancher): install succeeds, uninstall restores', async () => {
    const root = makeHost({ ...k3sNode(), '/data/rancher/k3s/server/token': 'x\n', '/var/lib/.keep': '' });
    symlinkSync('/data/rancher', join(root, '/var/lib/rancher'));
    const before = snapshot(root);
    const host = fakeState({ kubeletVersion: 'k3s version v1.30.4+k3s1 (98262b5d)' });
    await runInstall(context(root, host).ctx, inputs(fakePayload()));
    assert.equal(modeOf(root, `/data/rancher/credentialprovider/bin/${OURS}`), 0o755);
    assert.equal(parse(readHost(root, '/data/rancher/credentialprovider/config.yaml')).kind, 'CredentialProviderConfig');
    await runUninstall(context(root, host).ctx);
    assert.deepEqual(snapshot(root), before);
  });
});

describe('paths a local user could redirect', () => {
  it('a directory on the write path owned by another user: refused, nothing changed', async () => {
    const root = makeHost(kubeadmDebian({ '/etc/kubernetes/credential-provider/.keep': '' }));
    chownSync(join(root, '/etc/kubernetes/credential-provider'), 1000, 1000);
    const before = snapshot(root);
    await rejects(runInstall(context(root, fakeState({})).ctx, inputs(fakePayload())), /\/etc\/kubernetes\/credential-provider is owned by uid 1000/);
    assert.deepEqual(snapshot(root), before);
  });

  it('a directory on the write path writable by others: refused, nothing changed', async () => {
    const root = makeHost(kubeadmDebian({ '/etc/kubernetes/credential-provider/bin/.keep': '' }));
    spawnSync('chmod', ['0777', join(root, '/etc/kubernetes/credential-provider/bin')]);
    const before = snapshot(root);
    await rejects(runInstall(context(root, fakeState({})).ctx, inputs(fakePayload())), /\/etc\/kubernetes\/credential-provider\/bin is writable by group or others/);
    assert.deepEqual(snapshot(root), before);
  });

  describe('a FIFO where a config file is expected', () => {
    let node: FakeNode;
    before(async () => {
      node = await FakeNode.start();
    });
    after(() => node.close());
    it('is refused at once (no hang), nothing changed', () => {
      assert.ok(existsSync(BUNDLE), 'run npm run build first');
      const root = makeHost(kubeadmDebian({ '/etc/kubernetes/credential-provider/.keep': '' }));
      spawnSync('mkfifo', [join(root, '/etc/kubernetes/credential-provider/config.yaml')]);
      const before = snapshot(root);
      const r = spawnSync(process.execPath, [BUNDLE, 'install', '--host-root', root, '--payload', fakePayload(), '--configure-kubelet', ...node.flags()], { encoding: 'utf8', env: node.env(), timeout: 60_000, killSignal: 'SIGKILL' });
      assert.equal(r.signal, null, 'the installer did not hang');
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /\/etc\/kubernetes\/credential-provider\/config\.yaml is not a regular file/);
      assert.deepEqual(snapshot(root), before);
    });
  });
});
