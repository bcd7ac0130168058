// The payload on a node that has no C library at all (test/packaging/host-tree.ts): the wrapper
// in the kubelet's bin dir, run with chroot as the kubelet runs it, answers a kubelet request,
// prints its version, serves the docker-credential-helper protocol under that name, and passes
// stdin, stdout, exit codes and signals through; a missing library shows the loader's own error.
// amd64 natively; arm64 under qemu-user via binfmt_misc (host-tree.ts says how).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { BUNDLE_PATH, kubeletRequest, REPO_ROOT } from '../helpers/run-provider.ts';
import { binaryOf, ensurePayloads } from '../binary/build-outputs.ts';
import { elfInterpreter } from './elf-facts.ts';
import { BIN_DIR, buildHostTree, cannotRun, DOCKER_HELPER, NODE_CONFIG, runInTree, startInTree, WRAPPER, type Arch, type HostTree } from './host-tree.ts';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NOT_ACR_IMAGE = 'docker.io/library/nginx:1.27';
const NOT_FOUND = 'credentials not found in native keychain\n';

/** What the bundle, run by this machine's Node, answers: the reference for exact bytes. */
function bundleAnswer(args: string[], input: string): { code: number | null; stdout: string; stderr: string } {
  const dir = join(REPO_ROOT, 'dist', `.nolibc-ref-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(join(dir, 'config.json'), '{}\n');
    const r = spawnSync(process.execPath, [BUNDLE_PATH, ...args.map((a) => (a === NODE_CONFIG ? join(dir, 'config.json') : a))], { input, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every file of the tree outside the install directory, as paths inside the tree. */
function filesOutside(tree: HostTree, dir = '/'): string[] {
  const out: string[] = [];
  for (const e of readdirSync(tree.at(dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (p === tree.installDir || p === '/proc' || p === '/dev') continue;
    if (e.isDirectory()) out.push(...filesOutside(tree, p));
    else out.push(p);
  }
  return out;
}

before(async () => {
  if (!cannotRun('amd64') || !cannotRun('arm64')) await ensurePayloads();
});

for (const arch of ['amd64', 'arm64'] as Arch[]) {
  describe(`${arch}: a node with no C library`, { skip: cannotRun(arch) }, () => {
    let tree: HostTree;
    before(() => {
      tree = buildHostTree(arch);
    });
    after(() => tree?.remove());

    it('holds no C library: only the installed payload, the wrapper and a static /bin/sh', () => {
      const outside = filesOutside(tree).sort();
      assert.deepEqual(outside, ['/bin/sh', DOCKER_HELPER, NODE_CONFIG, WRAPPER].sort());
      assert.equal(elfInterpreter(tree.at('/bin/sh')), undefined, '/bin/sh is statically linked');
      assert.match(readFileSync(tree.at(WRAPPER), 'utf8'), /^#!\/bin\/sh\n/);
      // The loader and libc exist only inside the install directory.
      assert.ok(existsSync(tree.at(`${tree.installDir}/lib/${tree.manifest.loader}`)));
      assert.ok(existsSync(tree.at(`${tree.installDir}/lib/libc.so.6`)));
    });

    it('control: the bare binary, as the installer copies it today, cannot start there', async () => {
      const bare = `${BIN_DIR}/bare-binary`;
      spawnSync('ln', [binaryOf(arch), tree.at(bare)]);
      try {
        const r = await runInTree(tree, [bare, '--version']);
        assert.notEqual(r.code, 0);
        assert.equal(r.stdout, '');
        // The kernel finds no loader at the path the binary names.
        assert.match(r.stderr, /No such file or directory/);
      } finally {
        rmSync(tree.at(bare));
      }
    });

    it('answers a kubelet request for an image that is not ACR with the exact empty response', async () => {
      const input = kubeletRequest(NOT_ACR_IMAGE);
      const r = await runInTree(tree, [WRAPPER, '--config', NODE_CONFIG], { input });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const reference = bundleAnswer(['--config', NODE_CONFIG], input);
      assert.equal(reference.code, 0, reference.stderr);
      assert.equal(r.stdout, reference.stdout, 'byte for byte what the bundle answers');
      const response = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.deepEqual(Object.keys(response).sort(), ['apiVersion', 'cacheDuration', 'cacheKeyType', 'kind']);
      assert.equal(response.kind, 'CredentialProviderResponse');
      assert.equal(response.cacheKeyType, 'Image');
    });

    it('--version prints the provider version (the SEA is detected through the loader)', async () => {
      const r = await runInTree(tree, [WRAPPER, '--version']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${VERSION}\n`);
    });

    it('as docker-credential-aliyun-acr (a symlink to the wrapper) it speaks the helper protocol', async () => {
      const r = await runInTree(tree, [DOCKER_HELPER, 'get'], { input: 'https://ghcr.io\n' });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, NOT_FOUND);
      // Control: the same request to the kubelet name is not the helper protocol.
      const asKubelet = await runInTree(tree, [WRAPPER, 'get'], { input: 'https://ghcr.io\n' });
      assert.notEqual(asKubelet.stdout, NOT_FOUND);
    });

    it('bad input: the same exit code and stderr line as the bundle, nothing on stdout', async () => {
      const input = '{"kind":"CredentialProviderRequest"';
      const r = await runInTree(tree, [WRAPPER, '--config', NODE_CONFIG], { input });
      const reference = bundleAnswer(['--config', NODE_CONFIG], input);
      assert.notEqual(reference.code, 0);
      assert.equal(r.code, reference.code);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, reference.stderr);
    });

    it('a library missing from the install directory: the loader says which, exit 127, nothing on stdout', async () => {
      const broken = buildHostTree(arch, { omit: ['libstdc++.so.6'] });
      try {
        const r = await runInTree(broken, [WRAPPER, '--config', NODE_CONFIG], { input: kubeletRequest(NOT_ACR_IMAGE) });
        assert.equal(r.code, 127, r.stderr);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /error while loading shared libraries: libstdc\+\+\.so\.6: cannot open shared object file: No such file or directory/);
      } finally {
        broken.remove();
      }
    });
  });
}

describe('amd64: what changes when the provider starts through its loader', { skip: cannotRun('amd64') }, () => {
  let tree: HostTree;
  before(() => {
    tree = buildHostTree('amd64');
  });
  after(() => tree?.remove());

  it('exec: the process the kubelet starts is the provider itself, started by the name the kubelet used; SIGTERM reaches it', async () => {
    const run = startInTree(tree, [WRAPPER, '--config', NODE_CONFIG], { keepStdinOpen: true });
    let provider: number | undefined;
    try {
      // unshare --fork: our child is unshare, its child is what chroot exec'd.
      const loader = tree.at(`${tree.installDir}/lib/${tree.manifest.loader}`);
      for (let i = 0; i < 2400 && provider === undefined; i++) {
        const pid = Number(readFileSync(`/proc/${run.pid}/task/${run.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
        // exe changes early in execve, the command line only once the new stack is set up.
        if (pid > 0 && readlinkSync(`/proc/${pid}/exe`) === loader && readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '') provider = pid;
        else await sleep(25);
      }
      assert.ok(provider, 'the chroot child became the loader: sh exec-ed it, no shell is left in between');
      assert.equal(readFileSync(`/proc/${provider}/task/${provider}/children`, 'utf8').trim(), '', 'and it started no process of its own');
      // The kernel's view (ps): the loader's command line, carrying the wrapper's name as --argv0.
      const binary = `${tree.installDir}/aliyun-acr-credential-provider`;
      const cmdline = readFileSync(`/proc/${provider}/cmdline`, 'utf8').split('\0').slice(0, -1);
      assert.deepEqual(cmdline, [`${tree.installDir}/lib/${tree.manifest.loader}`, '--inhibit-cache', '--library-path', `${tree.installDir}/lib`, '--argv0', WRAPPER, binary, '--config', NODE_CONFIG]);
      // Wait until the loader has mapped the binary, then terminate it as the kubelet would.
      for (let i = 0; i < 2400 && !readFileSync(`/proc/${provider}/maps`, 'utf8').includes(binary); i++) await sleep(25);
      process.kill(provider, 'SIGTERM');
      const r = await run.result;
      assert.equal(r.stdout, '');
      assert.ok(r.signal === 'SIGTERM' || r.code === 143, `ended by SIGTERM: code ${r.code}, signal ${r.signal}, ${r.stderr}`);
      provider = undefined;
    } finally {
      if (provider !== undefined) process.kill(provider, 'SIGKILL');
    }
  });

  it('a host with a C library of its own, named by LD_LIBRARY_PATH and ld.so.cache: the provider uses only the payload\'s', async () => {
    // Decoys where a glibc host keeps its libraries (Debian, Red Hat, CentOS 7 layouts): not ELF
    // at all, so loading any of them fails loudly ("invalid ELF header" or "file too short").
    const decoyDirs = ['/lib64', '/usr/lib64', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib', '/usr/lib'];
    const decoys = ['libc.so.6', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'libgcc_s.so.1', 'libstdc++.so.6', tree.manifest.loader];
    const placed: string[] = [];
    try {
      for (const d of decoyDirs) {
        mkdirSync(tree.at(d), { recursive: true });
        for (const name of decoys) {
          writeFileSync(tree.at(`${d}/${name}`), 'not a shared object\n');
          placed.push(`${d}/${name}`);
        }
      }
      writeFileSync(tree.at('/etc/ld.so.cache'), 'not a cache\n');
      placed.push('/etc/ld.so.cache');
      // Control: the bare binary now finds a "loader" at its interpreter path, and it is the host's.
      const bare = `${BIN_DIR}/bare-binary`;
      spawnSync('ln', [binaryOf('amd64'), tree.at(bare)]);
      placed.push(bare);
      const control = await runInTree(tree, [bare, '--version']);
      assert.notEqual(control.code, 0, 'the host\'s (decoy) C library is what a bare binary gets');
      const env = { LD_LIBRARY_PATH: decoyDirs.join(':') };
      const input = kubeletRequest(NOT_ACR_IMAGE);
      const r = await runInTree(tree, [WRAPPER, '--config', NODE_CONFIG], { input, env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, bundleAnswer(['--config', NODE_CONFIG], input).stdout);
      const helper = await runInTree(tree, [DOCKER_HELPER, 'get'], { input: 'ghcr.io\n', env });
      assert.equal(helper.stdout, NOT_FOUND);
    } finally {
      for (const p of placed) rmSync(tree.at(p), { force: true });
    }
  });

  it('install --dry-run through the wrapper plans the payload directory the binary runs from, not the loader\'s', async () => {
    const host = '/host';
    const files: Record<string, string> = {
      'usr/lib/systemd/system/kubelet.service': '[Unit]\nDescription=kubelet\n\n[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n',
      'usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf': '[Service]\nEnvironment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"\nEnvironmentFile=-/etc/default/kubelet\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS $KUBELET_EXTRA_ARGS\n',
      'var/lib/kubelet/config.yaml': 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n',
      'etc/default/kubelet': 'KUBELET_EXTRA_ARGS=\n',
    };
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(tree.at(join(host, path, '..')), { recursive: true });
      writeFileSync(tree.at(join(host, path)), content);
    }
    mkdirSync(tree.at(join(host, 'bin')), { recursive: true });
    linkSync(tree.at('/bin/sh'), tree.at(join(host, 'bin/sh'))); // the node's shell: the installer checks its architecture
    writeFileSync(tree.at('/etc/provider-config.yaml'), 'expiringThreshold: 15m\n');
    const r = await runInTree(tree, [WRAPPER, 'install', '--dry-run', `--host-root=${host}`, '--layout=kubeadm', '--configure-kubelet', '--kubelet-version=1.30', '--provider-config=/etc/provider-config.yaml']);
    assert.equal(r.code, 0, r.stderr);
    // The payload to install is the directory of the binary the wrapper ran, not the loader's lib/.
    const planned = /# install payload \S+ from (\S+): (\d+) files and manifest\.json, (\d+) bytes/.exec(r.stdout);
    assert.ok(planned, `the plan installs the payload: ${r.stdout.slice(0, 400)}`);
    assert.equal(planned[1], tree.installDir);
    assert.equal(Number(planned[2]), tree.manifest.files.length);
    assert.equal(Number(planned[3]), tree.manifest.files.reduce((n, f) => n + f.size, 0));
    assert.ok(statSync(tree.at(`${tree.installDir}/aliyun-acr-credential-provider`)).size > 0);
  });
});
