// Debian packages of a target architecture as the build's source of system files: downloaded
// once with `apt-get download <pkg>:<arch>` into .cache/image-debs/<arch>/, unpacked with
// `dpkg-deb -x`. Foreign architectures need enabling once:
// `dpkg --add-architecture arm64 && apt-get update`.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const DEB_CACHE = join(root, '.cache', 'image-debs');

export function run(cmd: string, args: string[], options: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** The .deb of `pkg` for `arch` ("all" for architecture-independent packages), cached. */
export function deb(pkg: string, arch: string): string {
  const dir = join(DEB_CACHE, arch);
  mkdirSync(dir, { recursive: true });
  const find = () => readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  let file = find();
  if (!file) {
    const r = spawnSync('apt-get', ['download', `${pkg}:${arch}`], { cwd: dir, encoding: 'utf8' });
    file = find();
    if (r.status !== 0 || !file) {
      const hint = arch === 'amd64' || arch === 'all' ? '' : ` (enable the architecture first: dpkg --add-architecture ${arch} && apt-get update)`;
      throw new Error(`apt-get download ${pkg}:${arch} failed${hint}: ${r.stderr.trim()}`);
    }
  }
  return join(dir, file);
}

/** The package's version, from the .deb's control file. */
export function debVersion(debFile: string): string {
  return run('dpkg-deb', ['-f', debFile, 'Version']).trim();
}

/** Unpacks `pkgs` of `arch` into `dir`; returns each package's version. */
export function unpack(pkgs: readonly string[], arch: string, dir: string, archOf: (pkg: string) => string = () => arch): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  const versions = new Map<string, string>();
  for (const pkg of pkgs) {
    const file = deb(pkg, archOf(pkg));
    run('dpkg-deb', ['-x', file, dir]);
    versions.set(pkg, debVersion(file));
  }
  return versions;
}

export function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Resolves `path` (absolute inside the tree at `tree`) following symlinks inside that tree. */
export function inTree(tree: string, path: string, depth = 0): string {
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

/**
 * The copyright file of `pkg` in an unpacked tree. A package's doc directory may be a symlink to
 * another package's (libstdc++6 -> gcc-12-base): that package is unpacked too.
 */
export function copyrightOf(tree: string, pkg: string, arch: string): string {
  const docDir = join(tree, 'usr/share/doc', pkg);
  let source = pkg;
  if (isSymlink(docDir)) {
    source = readlinkSync(docDir);
    if (source.includes('/')) throw new Error(`unexpected doc link ${pkg} -> ${source}`);
    run('dpkg-deb', ['-x', deb(source, arch), tree]);
  }
  return join(tree, 'usr/share/doc', source, 'copyright');
}
