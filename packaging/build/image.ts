// Builds the node installer image (packaging/image/Containerfile) for linux/amd64 and linux/arm64
// and exports both, as one image index, to the OCI layout dist/image/oci (tag = package version).
//
// No registry but npm's and Debian's is reachable, so the image is `FROM scratch` and its root
// filesystem is assembled here from files on the build machine:
//   - the payload directory of `npm run build:binary` (dist/payload/linux-<arch>/: the binary, its
//     loader and libraries, the manifest), at /usr/lib/aliyun-acr-credential-provider/payload/;
//     the installer copies it onto the node from there. Everything else that is the binary, the
//     loader or one of its libraries is a relative symlink into it, so nothing is stored twice:
//     the entrypoint /usr/local/bin/aliyun-acr-credential-provider, the loader at the path the
//     executables name, the libraries in /lib/<triplet>/;
//   - nsenter and the libraries only it needs, from Debian packages of the target architecture
//     (packaging/build/debian.ts), found by following ELF NEEDED entries (readelf); every ELF file
//     is checked to be of the target machine;
//   - Debian's Mozilla CA bundle (the ca-certificates package's certificates, concatenated as
//     update-ca-certificates does, without the build machine's local additions);
//   - a two-line /etc/passwd and /etc/group, and the copyright files of everything shipped.
//
// buildah runs without a container engine: vfs storage under .cache/buildah, chroot isolation,
// `--timestamp 0` (reproducible layers and config). The image has no RUN step, so building the
// arm64 image needs no emulation.
//
// Usage: node packaging/build/image.ts (expects dist/payload from `npm run build:binary`);
//        `npm run build:image` does both.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMAGE_PAYLOAD_DIR, PAYLOAD_LIB_DIR, PAYLOAD_MANIFEST } from '../../src/payload/layout.ts';
import { fileMode, parseManifest } from '../../src/payload/manifest.ts';
import { copyrightOf, inTree, isSymlink, run, unpack } from './debian.ts';
import { elfMachine, interpreterOf, neededClosure } from './elf.ts';
import { PAYLOAD_DEBS, PAYLOAD_TARGETS, payloadDir, place, type PayloadTarget } from './payload.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export const IMAGE_NAME = 'localhost/aliyun-acr-credential-provider';
export const PROVIDER_PATH = '/usr/local/bin/aliyun-acr-credential-provider';
export const OCI_DIR = join(root, 'dist', 'image', 'oci');
const CONTEXT_DIR = join(root, 'dist', 'image', 'context');
const WORK_DIR = join(root, 'dist', 'image', 'work');
const STORAGE = ['--root', join(root, '.cache', 'buildah', 'storage'), '--runroot', join(root, '.cache', 'buildah', 'run'), '--storage-driver', 'vfs'];

export const IMAGE_ARCHES = PAYLOAD_TARGETS;

/** Debian packages the image takes files from besides the payload's (ca-certificates is "all"). */
const IMAGE_DEBS = ['util-linux', 'libselinux1', 'libpcre2-8-0', 'ca-certificates'];

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

const buildah = (args: string[]): string => run('buildah', [...STORAGE, ...args]);

/** Assembles dist/image/context/rootfs-<arch> and returns what it holds (image paths; links end in " -> target"). */
function assembleRootfs(target: PayloadTarget): string[] {
  const payload = payloadDir(target.arch);
  const manifestFile = join(payload, PAYLOAD_MANIFEST);
  if (!existsSync(manifestFile)) throw new Error(`${manifestFile} is missing: run npm run build:binary first`);
  const manifest = parseManifest(readFileSync(manifestFile, 'utf8'));
  if (manifest.arch !== target.arch) throw new Error(`${payload} holds a payload for ${manifest.arch}`);

  const debroot = join(WORK_DIR, target.arch, 'debroot');
  rmSync(debroot, { recursive: true, force: true });
  unpack(IMAGE_DEBS, target.arch, debroot, (pkg) => (pkg === 'ca-certificates' ? 'all' : target.arch));

  const rootfs = join(CONTEXT_DIR, `rootfs-${target.arch}`);
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true, mode: 0o755 });
  const shipped: string[] = [];
  const put = (src: string, imagePath: string, mode: number, options: { link?: boolean } = {}): void => {
    place(src, join(rootfs, imagePath), mode, options);
    shipped.push(imagePath);
  };
  /** A relative symlink at imagePath to targetPath (both image paths), valid in and out of a chroot. */
  const symlink = (imagePath: string, targetPath: string): void => {
    mkdirSync(join(rootfs, posix.dirname(imagePath)), { recursive: true, mode: 0o755 });
    const relative = posix.relative(posix.dirname(imagePath), targetPath);
    symlinkSync(relative, join(rootfs, imagePath));
    shipped.push(`${imagePath} -> ${relative}`);
  };

  // The payload, file by file as the manifest lists it (hard links into dist/ where possible).
  for (const f of manifest.files) put(join(payload, f.path), `${IMAGE_PAYLOAD_DIR}/${f.path}`, fileMode(f), { link: true });
  put(manifestFile, `${IMAGE_PAYLOAD_DIR}/${PAYLOAD_MANIFEST}`, 0o644);
  const payloadLib = `${IMAGE_PAYLOAD_DIR}/${PAYLOAD_LIB_DIR}`;
  symlink(PROVIDER_PATH, `${IMAGE_PAYLOAD_DIR}/${manifest.binary}`);

  // The loader at the path the executables name; the payload's libraries where it searches.
  const binary = join(rootfs, IMAGE_PAYLOAD_DIR, manifest.binary);
  const interpreter = interpreterOf(binary);
  if (!interpreter || posix.basename(interpreter) !== manifest.loader) throw new Error(`${binary} names loader ${interpreter}, the manifest ${manifest.loader}`);
  symlink(interpreter, `${payloadLib}/${manifest.loader}`);
  const libDir = `/lib/${target.triplet}`;
  const payloadLibs = manifest.files.map((f) => f.path).filter((p) => p.startsWith(`${PAYLOAD_LIB_DIR}/`) && p !== `${PAYLOAD_LIB_DIR}/${manifest.loader}`).map((p) => posix.basename(p));
  for (const soname of payloadLibs) symlink(`${libDir}/${soname}`, `${payloadLib}/${soname}`);

  // nsenter, and the libraries it needs that the payload does not have.
  put(inTree(debroot, '/usr/bin/nsenter'), '/usr/bin/nsenter', 0o755);
  const nsenter = join(rootfs, 'usr/bin/nsenter');
  if (interpreterOf(nsenter) !== interpreter) throw new Error(`nsenter wants ${interpreterOf(nsenter)}, the provider ${interpreter}`);
  const fromPayload = (soname: string): string | undefined => (payloadLibs.includes(soname) ? join(rootfs, payloadLib, soname) : undefined);
  const fromDebs = (soname: string): string | undefined => {
    const found = [`/lib/${target.triplet}/${soname}`, `/usr/lib/${target.triplet}/${soname}`].find((c) => existsSync(join(debroot, c)) || isSymlink(join(debroot, c)));
    return found && inTree(debroot, found);
  };
  for (const [soname, file] of neededClosure([nsenter], (s) => fromPayload(s) ?? fromDebs(s), [manifest.loader])) {
    if (!fromPayload(soname)) put(file, `${libDir}/${soname}`, 0o644);
  }
  for (const f of shipped.filter((p) => !p.includes(' -> ') && (p.startsWith('/lib/') || p === '/usr/bin/nsenter'))) {
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

  // Licences at the usual places: the image's own packages' copyright files, and links to the
  // payload's (its Debian packages, Node's licence, the bundle's third-party notices).
  for (const pkg of IMAGE_DEBS) put(copyrightOf(debroot, pkg, target.arch), `/usr/share/doc/${pkg}/copyright`, 0o644);
  for (const pkg of PAYLOAD_DEBS) symlink(`/usr/share/doc/${pkg}/copyright`, `${IMAGE_PAYLOAD_DIR}/doc/${pkg}/copyright`);
  symlink('/usr/share/doc/aliyun-acr-credential-provider/NODE-LICENSE', `${IMAGE_PAYLOAD_DIR}/doc/node/LICENSE`);
  symlink('/usr/share/doc/aliyun-acr-credential-provider/THIRD-PARTY-NOTICES', `${IMAGE_PAYLOAD_DIR}/doc/aliyun-acr-credential-provider/THIRD-PARTY-NOTICES`);
  return shipped;
}

function buildImage(target: PayloadTarget, version: string): string {
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
