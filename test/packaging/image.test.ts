// The node installer image (npm run build:image) as a runtime would see it: the OCI layout is read
// by hand (index.json -> image index -> per-platform manifest -> config and layer tarballs), each
// architecture's root filesystem is unpacked and checked file by file, and the binary is run
// with nothing but the rootfs's own loader and libraries (chroot for amd64, qemu-user with the
// rootfs as its only library prefix for arm64): --version, a kubelet request against the
// emulators, sync-config with every capability dropped (as the DaemonSet runs it), and the
// installer's dry run on a fake kubeadm node.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { startEmulators } from '../emulators/index.ts';
import { kubeletRequest, parseResponse, REPO_ROOT } from '../helpers/run-provider.ts';
import { ensureImage, missingTool, OCI_LAYOUT, payloadDirOf } from '../binary/build-outputs.ts';
import { parseManifest } from '../../src/payload/manifest.ts';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const PROVIDER = '/usr/local/bin/aliyun-acr-credential-provider';
const PAYLOAD = '/usr/lib/aliyun-acr-credential-provider/payload';
const ARCH = {
  amd64: { triplet: 'x86_64-linux-gnu', loader: '/lib64/ld-linux-x86-64.so.2' },
  arm64: { triplet: 'aarch64-linux-gnu', loader: '/lib/ld-linux-aarch64.so.1' },
} as const;
type Arch = keyof typeof ARCH;
const PAYLOAD_LIBS = ['libc.so.6', 'libdl.so.2', 'libgcc_s.so.1', 'libm.so.6', 'libpthread.so.0', 'libstdc++.so.6'];
const NSENTER_LIBS = ['libpcre2-8.so.0', 'libselinux.so.1'];
const IMAGE_DOCS = ['ca-certificates', 'libpcre2-8-0', 'libselinux1', 'util-linux'];
const PAYLOAD_DOCS = ['libc6', 'libgcc-s1', 'libstdc++6'];

/** Every entry of the root filesystem: null for a regular file, the resolved image path for a symlink. */
function expectedEntries(arch: Arch, payloadFiles: string[]): Map<string, string | null> {
  const { triplet, loader } = ARCH[arch];
  const loaderName = loader.slice(loader.lastIndexOf('/') + 1);
  const entries = new Map<string, string | null>();
  for (const f of ['/etc/group', '/etc/passwd', '/etc/ssl/certs/ca-certificates.crt', '/usr/bin/nsenter', `${PAYLOAD}/manifest.json`]) entries.set(f, null);
  for (const f of payloadFiles) entries.set(`${PAYLOAD}/${f}`, null);
  for (const l of NSENTER_LIBS) entries.set(`/lib/${triplet}/${l}`, null);
  for (const p of IMAGE_DOCS) entries.set(`/usr/share/doc/${p}/copyright`, null);
  // Links into the payload: the binary, its loader and its libraries are stored once.
  entries.set(PROVIDER, `${PAYLOAD}/aliyun-acr-credential-provider`);
  entries.set(loader, `${PAYLOAD}/lib/${loaderName}`);
  for (const l of PAYLOAD_LIBS) entries.set(`/lib/${triplet}/${l}`, `${PAYLOAD}/lib/${l}`);
  for (const p of PAYLOAD_DOCS) entries.set(`/usr/share/doc/${p}/copyright`, `${PAYLOAD}/doc/${p}/copyright`);
  entries.set('/usr/share/doc/aliyun-acr-credential-provider/NODE-LICENSE', `${PAYLOAD}/doc/node/LICENSE`);
  entries.set('/usr/share/doc/aliyun-acr-credential-provider/THIRD-PARTY-NOTICES', `${PAYLOAD}/doc/aliyun-acr-credential-provider/THIRD-PARTY-NOTICES`);
  return entries;
}

/** What the unpacked root filesystem at dir holds, in the form of expectedEntries. */
function actualEntries(dir: string): Map<string, string | null> {
  const entries = new Map<string, string | null>();
  for (const f of filesUnder(dir)) {
    const st = lstatSync(join(dir, f));
    if (st.isSymbolicLink()) {
      const target = readlinkSync(join(dir, f));
      assert.ok(!target.startsWith('/'), `${f} -> ${target}: links are relative (they work in and out of a chroot)`);
      entries.set(f, posix.resolve(posix.dirname(f), target));
    } else {
      assert.ok(st.isFile(), f);
      entries.set(f, null);
    }
  }
  return entries;
}

const missing = missingTool('buildah', 'readelf', 'dpkg-deb', 'apt-get', 'tar', 'chroot', 'setpriv');
/** Absolute paths: chroot lives in /usr/sbin, which the clean child PATH leaves out. */
const which = (cmd: string): string => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || cmd;
const CHROOT = which('chroot');
const SETPRIV = which('setpriv');
const qemuMissing = missingTool('qemu-aarch64-static');
const notRoot = process.getuid?.() === 0 ? undefined : 'needs root (chroot, buildah)';

type Json = Record<string, any>;
const blob = (digest: string): string => join(OCI_LAYOUT, 'blobs', ...(digest.split(':') as [string, string]));
const readBlob = (digest: string): Json => JSON.parse(readFileSync(blob(digest), 'utf8')) as Json;

interface Exec {
  result: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `cmd` (asynchronously: the emulators answer from this process) in a clean environment. */
function start(cmd: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Exec {
  const child = spawn(cmd, args, { env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 120_000 });
  const result = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  // A child that exits before reading stdin (e.g. --version) makes the write fail with EPIPE.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  return { result, kill: (signal) => child.kill(signal) };
}

const exec = (cmd: string, args: string[], options: { input?: string } = {}) => start(cmd, args, options).result;

function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const p = `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...filesUnder(dir, p));
    else out.push(p);
  }
  return out;
}

/** Every file under dir with its content, to prove a dry run changed nothing. */
function snapshot(dir: string): Map<string, string> {
  return new Map(filesUnder(dir).map((f) => [f, readFileSync(join(dir, f), 'latin1')]));
}

describe('container image', { skip: missing ?? notRoot }, () => {
  let tmp = '';
  let index: Json = {};
  const manifests = new Map<Arch, Json>();
  const rootfs = new Map<Arch, string>();
  const tarListing = new Map<Arch, string>();

  before(async () => {
    await ensureImage();
    tmp = mkdtempSync(join(tmpdir(), 'acr-image-'));
    const top = JSON.parse(readFileSync(join(OCI_LAYOUT, 'index.json'), 'utf8')) as Json;
    assert.equal(top.manifests.length, 1, 'one tagged entry in the layout');
    index = top;
    const list = readBlob(top.manifests[0].digest);
    for (const arch of Object.keys(ARCH) as Arch[]) {
      const entry = list.manifests.find((m: Json) => m.platform?.architecture === arch && m.platform?.os === 'linux');
      assert.ok(entry, `no linux/${arch} manifest in the image index`);
      const manifest = readBlob(entry.digest);
      manifests.set(arch, manifest);
      const dir = join(tmp, arch);
      mkdirSync(dir);
      let listing = '';
      for (const layer of manifest.layers as Json[]) {
        assert.match(layer.mediaType, /tar\+gzip$/);
        const r = spawnSync('tar', ['--numeric-owner', '-xzf', blob(layer.digest), '-C', dir]);
        assert.equal(r.status, 0, String(r.stderr));
        listing += spawnSync('tar', ['--numeric-owner', '-tvzf', blob(layer.digest)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }).stdout;
      }
      rootfs.set(arch, dir);
      tarListing.set(arch, listing);
    }
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the OCI layout holds one image index, tagged with the package version, for linux/amd64 and linux/arm64', (t) => {
    assert.equal(index.manifests[0].mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], VERSION);
    const list = readBlob(index.manifests[0].digest);
    assert.deepEqual(list.manifests.map((m: Json) => `${m.platform.os}/${m.platform.architecture}`).sort(), ['linux/amd64', 'linux/arm64']);
    for (const [arch, manifest] of manifests) {
      const config = readBlob(manifest.config.digest);
      assert.equal(config.architecture, arch);
      assert.equal(config.os, 'linux');
      assert.deepEqual(config.config.Entrypoint, [PROVIDER]);
      assert.equal(config.config.User, '0:0');
      assert.equal(config.config.Labels['org.opencontainers.image.version'], VERSION);
      assert.equal(manifest.layers.length, 1, 'one layer: FROM scratch + one COPY');
      const compressed = manifest.layers.reduce((n: number, l: Json) => n + l.size, 0);
      const unpacked = filesUnder(rootfs.get(arch)!).reduce((n, f) => n + lstatSync(join(rootfs.get(arch)!, f)).size, 0);
      t.diagnostic(`linux/${arch}: ${(compressed / 1024 / 1024).toFixed(1)} MiB compressed, ${(unpacked / 1024 / 1024).toFixed(1)} MiB unpacked`);
    }
  });

  for (const arch of Object.keys(ARCH) as Arch[]) {
    it(`${arch}: the root filesystem holds exactly the expected files and links, root-owned; the binary is stored once`, () => {
      const dir = rootfs.get(arch)!;
      const manifest = parseManifest(readFileSync(join(dir, PAYLOAD.slice(1), 'manifest.json'), 'utf8'));
      // The image's payload is build:binary's, file for file.
      assert.deepEqual(manifest, parseManifest(readFileSync(join(payloadDirOf(arch), 'manifest.json'), 'utf8')));
      assert.equal(manifest.arch, arch);
      assert.deepEqual(Object.fromEntries(actualEntries(dir)), Object.fromEntries(expectedEntries(arch, manifest.files.map((f) => f.path))));
      for (const f of manifest.files) {
        const p = join(dir, PAYLOAD.slice(1), f.path);
        assert.equal(statSync(p).size, f.size, f.path);
        assert.equal((statSync(p).mode & 0o777).toString(8).padStart(4, '0'), f.mode, f.path);
        assert.equal(createHash('sha256').update(readFileSync(p)).digest('hex'), f.sha256, f.path);
      }
      const lines = tarListing.get(arch)!.trim().split('\n');
      for (const line of lines) {
        assert.match(line, /^[-dl]/, `only regular files, directories and symlinks: ${line}`);
        assert.match(line, /^\S+ 0\/0 /, `owned by root: ${line}`);
      }
      const big = lines.filter((l) => Number(l.split(/\s+/)[2]) > 50 * 1024 * 1024);
      assert.equal(big.length, 1, `one file of the layer is the binary: ${big.join('; ')}`);
      for (const exe of [PROVIDER, '/usr/bin/nsenter']) assert.equal(statSync(join(dir, exe)).mode & 0o777, 0o755, exe);
      assert.equal(readFileSync(join(dir, 'etc/passwd'), 'utf8').split('\n')[0], 'root:x:0:0:root:/root:/sbin/nologin');
    });
  }

  it('amd64: the CA bundle is a list of valid X.509 certificates', () => {
    const pem = readFileSync(join(rootfs.get('amd64')!, 'etc/ssl/certs/ca-certificates.crt'), 'utf8');
    const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    assert.ok(certs.length >= 100, `only ${certs.length} certificates`);
    for (const c of certs) assert.ok(new X509Certificate(c).ca, 'a CA certificate');
    assert.equal(pem.replace(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g, '').trim(), '', 'nothing but certificates');
  });

  it('amd64: the binary and nsenter run with the rootfs own loader and libraries (chroot)', async () => {
    const dir = rootfs.get('amd64')!;
    const version = await exec(CHROOT, [dir, PROVIDER, '--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), VERSION);
    const nsenter = await exec(CHROOT, [dir, '/usr/bin/nsenter', '--version']);
    assert.equal(nsenter.code, 0, nsenter.stderr);
    assert.match(nsenter.stdout, /^nsenter from util-linux \d/);
  });

  it('arm64: the binary and nsenter run under qemu-user with the rootfs as the only library prefix', { skip: qemuMissing }, async () => {
    const dir = rootfs.get('arm64')!;
    // Nothing for arm64 exists outside the rootfs at the paths its loader searches.
    assert.ok(!existsSync(`/lib/${ARCH.arm64.triplet}/libc.so.6`) && !existsSync(ARCH.arm64.loader), 'the host must not have arm64 libraries at the image paths');
    const version = await exec('qemu-aarch64-static', ['-L', dir, join(dir, PROVIDER), '--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), VERSION);
    const nsenter = await exec('qemu-aarch64-static', ['-L', dir, join(dir, 'usr/bin/nsenter'), '--version']);
    assert.equal(nsenter.code, 0, nsenter.stderr);
    assert.match(nsenter.stdout, /^nsenter from util-linux \d/);
  });

  it('amd64: answers a kubelet request against the emulators from inside the rootfs', async () => {
    const dir = join(tmp, 'amd64-request');
    cpSync(rootfs.get('amd64')!, dir, { recursive: true, verbatimSymlinks: true });
    const e = await startEmulators();
    try {
      mkdirSync(join(dir, 'etc/test'), { recursive: true });
      writeFileSync(join(dir, 'etc/test/config.json'), JSON.stringify({ cacheDir: '/var/lib/aliyun-acr-credential-provider', metadata: { endpoint: e.imds.url }, cr: { endpoint: e.cr.endpoints() } }));
      const r = await exec(CHROOT, [dir, PROVIDER, '--config', '/etc/test/config.json'], { input: kubeletRequest('registry.cn-hangzhou.aliyuncs.com/ns/app') });
      assert.equal(r.code, 0, r.stderr);
      const auth = parseResponse(r.stdout).auth?.['registry.cn-hangzhou.aliyuncs.com'];
      assert.ok(auth);
      assert.equal(e.state.issuedTokens().filter((tk) => tk.password === auth.password).length, 1);
      assert.ok(readdirSync(join(dir, 'var/lib/aliyun-acr-credential-provider')).length > 0, 'the token was cached inside the rootfs');
    } finally {
      await e.close();
    }
  });

  it('amd64: sync-config writes the node config with every capability dropped, as the DaemonSet runs it', async () => {
    const dir = rootfs.get('amd64')!;
    const work = mkdtempSync(join(tmp, 'sync-'));
    const host = join(work, 'host');
    const nodeDir = join(host, 'etc/kubernetes/aliyun-acr-credential-provider');
    mkdirSync(nodeDir, { recursive: true, mode: 0o755 });
    mkdirSync(join(work, 'cm'));
    writeFileSync(join(work, 'cm/config.yaml'), configMapConfig());
    chmodSync(work, 0o755);
    // The rootfs's loader runs the binary with the rootfs's libraries; setpriv empties every
    // capability set first (uid 0 without capabilities, like drop: [ALL]).
    const run = () =>
      start(SETPRIV, ['--bounding-set=-all', '--inh-caps=-all', '--ambient-caps=-all', '--no-new-privs', join(dir, ARCH.amd64.loader.slice(1)), '--library-path', join(dir, `lib/${ARCH.amd64.triplet}`), join(dir, PROVIDER.slice(1)), 'sync-config', `--host-root=${host}`, `--provider-config=${join(work, 'cm/config.yaml')}`, '--interval=200ms'], { timeoutMs: 20_000 });
    const waitFor = async (what: string, ok: () => boolean): Promise<void> => {
      const deadline = Date.now() + 8000;
      while (!ok()) {
        assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
        await sleep(100);
      }
    };
    const target = join(nodeDir, 'config.json');
    const sync = run();
    await waitFor('the node config', () => existsSync(target));
    assert.equal((JSON.parse(readFileSync(target, 'utf8')) as Json).expiringThreshold, '15m');
    assert.equal(statSync(target).uid, 0);
    // Edit the "ConfigMap": the node file follows without a restart.
    writeFileSync(join(work, 'cm/config.yaml'), 'expiringThreshold: 20m\n');
    await waitFor('the edit', () => readFileSync(target, 'utf8').includes('20m'));
    assert.equal((JSON.parse(readFileSync(target, 'utf8')) as Json).expiringThreshold, '20m');
    sync.kill('SIGTERM');
    const stopped = await sync.result;
    assert.equal(stopped.code, 0, `sync-config must stop cleanly on SIGTERM: ${stopped.signal} ${stopped.stderr}`);
    assert.doesNotMatch(stopped.stderr, /error/i);

    // Control: the same run cannot write into a root-owned directory without write permission,
    // which shows the capabilities were really dropped (with CAP_DAC_OVERRIDE it could). (Not a
    // directory another user owns: the installer refuses those itself, whatever its capabilities.)
    rmSync(target);
    chmodSync(nodeDir, 0o555);
    const denied = run();
    const deniedResult = await Promise.race([denied.result, sleep(2000).then(() => undefined)]);
    assert.ok(!existsSync(target), 'without capabilities root cannot write a directory it does not own');
    denied.kill('SIGTERM');
    const r = deniedResult ?? (await denied.result);
    assert.match(r.stderr, /EACCES|permission denied/i, 'the failure is logged');
  });

  it('amd64: install --dry-run on a fake kubeadm node plans the kubelet flags and changes nothing', async () => {
    const dir = join(tmp, 'amd64-install');
    cpSync(rootfs.get('amd64')!, dir, { recursive: true, verbatimSymlinks: true });
    const host = join(dir, 'host');
    const files: Record<string, string> = {
      'usr/lib/systemd/system/kubelet.service': '[Unit]\nDescription=kubelet\n\n[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n',
      'usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf':
        '[Service]\nEnvironment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"\nEnvironment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nEnvironmentFile=-/etc/default/kubelet\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n',
      'var/lib/kubelet/kubeadm-flags.env': 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.10"\n',
      'var/lib/kubelet/config.yaml': 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n',
      'etc/default/kubelet': 'KUBELET_EXTRA_ARGS=\n',
      'etc/kubernetes/kubelet.conf': 'apiVersion: v1\nkind: Config\n',
    };
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(host, path, '..'), { recursive: true });
      writeFileSync(join(host, path), content);
    }
    mkdirSync(join(host, 'bin'));
    copyFileSync('/bin/busybox', join(host, 'bin/sh')); // the node's static shell: the installer checks its architecture
    mkdirSync(join(dir, 'etc/aliyun-acr-credential-provider'));
    writeFileSync(join(dir, 'etc/aliyun-acr-credential-provider/config.yaml'), configMapConfig());
    const before = snapshot(host);
    const r = await exec(CHROOT, [dir, PROVIDER, 'install', '--dry-run', '--host-root=/host', '--layout=kubeadm', '--configure-kubelet', '--kubelet-version=1.30', '--provider-config=/etc/aliyun-acr-credential-provider/config.yaml']);
    assert.equal(r.code, 0, `install --dry-run failed: ${r.stderr}\n${r.stdout}`);
    assert.match(r.stdout, /--image-credential-provider-config/, 'the plan adds the kubelet flag');
    // The entrypoint is a symlink: what the installer plans to copy is the payload the binary runs from.
    const planned = /# install payload \S+ from (\S+): (\d+) files and manifest\.json, (\d+) bytes/.exec(r.stdout);
    assert.equal(planned?.[1], PAYLOAD, r.stdout.slice(0, 400));
    assert.ok(Number(planned?.[3]) > statSync(join(dir, PAYLOAD.slice(1), 'aliyun-acr-credential-provider')).size, 'the binary and its libraries');
    assert.deepEqual(snapshot(host), before, 'a dry run changes nothing on the node');
  });
});

/** The provider config the ConfigMap of packaging/deploy ships. */
function configMapConfig(): string {
  const cm = parseYaml(readFileSync(join(REPO_ROOT, 'packaging', 'deploy', 'base', 'configmap.yaml'), 'utf8')) as Json;
  const text = cm.data?.['config.yaml'];
  assert.equal(typeof text, 'string');
  return text as string;
}
