// A node's root file system with no C library at all: a static /bin/sh (Debian's busybox-static
// of the architecture), the payload installed the way the installer will install it (the files
// the manifest lists, copied into an install directory, the wrapper in the kubelet's bin dir, a
// docker-credential-aliyun-acr symlink to the wrapper), and empty /proc, /dev and /tmp.
//
// Commands run in it as the kubelet would run them there: `chroot <tree> <command>`, inside a
// private mount namespace that bind-mounts the real /proc and /dev into the tree (a node has
// them) and disappears with the command. arm64 runs through qemu-user registered with
// binfmt_misc in a private user namespace (the F flag opens qemu once, outside the tree), so the
// tree's arm64 /bin/sh, loader and binary are executed as on an arm64 node, and the machine's own
// binfmt_misc (not even mounted here) is never touched.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deb, run } from '../../packaging/build/debian.ts';
import { parseManifest, payloadId, fileMode, type PayloadManifest } from '../../src/payload/manifest.ts';
import { PAYLOAD_MANIFEST } from '../../src/payload/layout.ts';
import { renderWrapper } from '../../src/payload/wrapper.ts';
import { payloadDirOf } from '../binary/build-outputs.ts';

export type Arch = 'amd64' | 'arm64';
export const BIN_DIR = '/etc/kubernetes/credential-provider/bin';
export const WRAPPER = `${BIN_DIR}/aliyun-acr-credential-provider`;
export const DOCKER_HELPER = '/usr/local/bin/docker-credential-aliyun-acr';
export const NODE_CONFIG = '/etc/kubernetes/aliyun-acr-credential-provider/config.json';
const INSTALL_BASE = '/opt/aliyun-acr-credential-provider';

/** The binfmt_misc registration of qemu-aarch64 (Debian's qemu-user-static, with the F flag). */
export const QEMU_AARCH64 =
  ':qemu-aarch64:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:F';

const which = (cmd: string): string => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();

/** undefined if this machine can run the tree of `arch`, else why not. */
export function cannotRun(arch: Arch): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (chroot, mount namespaces)';
  const missing = ['unshare', 'chroot', 'mount', 'dpkg-deb', 'apt-get', ...(arch === 'arm64' ? ['qemu-aarch64-static'] : [])].filter((c) => !which(c));
  if (missing.length) return `not installed: ${missing.join(', ')} (.ci/run installs them)`;
  if (arch === 'arm64' && process.arch !== 'x64') return 'the arm64 tree runs under qemu on an x86-64 machine';
  if (arch === 'amd64' && process.arch !== 'x64') return 'the amd64 tree runs natively on an x86-64 machine';
  return undefined;
}

export interface HostTree {
  arch: Arch;
  root: string;
  manifest: PayloadManifest;
  /** The install directory as the node sees it (inside the tree). */
  installDir: string;
  /** Host path of a file inside the tree. */
  at(path: string): string;
  remove(): void;
}

/** Copies a file, hard-linking it when possible (the 120 MB binary). */
function copyOrLink(src: string, dest: string, mode: number): void {
  mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
  chmodSync(dest, mode);
}

/** The static busybox of `arch`, from Debian's busybox-static package (cached .deb). */
function staticShell(arch: Arch, work: string): string {
  const dir = join(work, `busybox-${arch}`);
  mkdirSync(dir, { recursive: true });
  run('dpkg-deb', ['-x', deb('busybox-static', arch), dir]);
  return join(dir, 'bin', 'busybox');
}

export interface TreeOptions {
  /** Library file names (in lib/) the installed copy leaves out. */
  omit?: string[];
  /** Only the node: its static /bin/sh and empty /proc, /dev, /tmp; nothing installed (for `install`). */
  bare?: boolean;
}

export function buildHostTree(arch: Arch, options: TreeOptions = {}): HostTree {
  const work = mkdtempSync(join(tmpdir(), `acr-nolibc-${arch}-`));
  const root = join(work, 'root');
  const at = (p: string): string => join(root, p);
  const dirs = options.bare ? ['bin', 'proc', 'dev', 'tmp'] : ['bin', 'proc', 'dev', 'tmp', 'usr/local/bin', BIN_DIR, dirname(NODE_CONFIG)];
  for (const d of dirs) mkdirSync(at(d), { recursive: true, mode: 0o755 });
  chmodSync(root, 0o755);
  chmodSync(at('tmp'), 0o1777);
  copyFileSync(staticShell(arch, work), at('bin/sh'));
  chmodSync(at('bin/sh'), 0o755);
  rmSync(join(work, `busybox-${arch}`), { recursive: true, force: true });
  const remove = () => rmSync(work, { recursive: true, force: true });
  if (options.bare) {
    const manifest = parseManifest(readFileSync(join(payloadDirOf(arch), PAYLOAD_MANIFEST), 'utf8'));
    return { arch, root, manifest, installDir: '', at, remove };
  }

  const payload = payloadDirOf(arch);
  const manifest = parseManifest(readFileSync(join(payload, PAYLOAD_MANIFEST), 'utf8'));
  const installDir = `${INSTALL_BASE}/${payloadId(manifest)}`;
  for (const f of manifest.files) {
    if (options.omit?.some((name) => f.path === `lib/${name}`)) continue;
    copyOrLink(join(payload, f.path), at(`${installDir}/${f.path}`), fileMode(f));
  }
  copyFileSync(join(payload, PAYLOAD_MANIFEST), at(`${installDir}/${PAYLOAD_MANIFEST}`));
  writeFileSync(at(WRAPPER), renderWrapper(installDir, manifest.loader), { mode: 0o755 });
  symlinkSync(WRAPPER, at(DOCKER_HELPER));
  writeFileSync(at(NODE_CONFIG), '{}\n', { mode: 0o644 });
  return { arch, root, manifest, installDir, at, remove };
}

export interface TreeRun {
  pid: number;
  result: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

// $1: the tree; the rest: the command to run in it. QEMU_BINFMT (arm64): the registration.
const SANDBOX = `set -e
root=$1; shift
mount --rbind /proc "$root/proc"
mount --rbind /dev "$root/dev"
if [ -n "$QEMU_BINFMT" ]; then
  mkdir -p "$BINFMT_DIR"
  mount -t binfmt_misc binfmt_misc "$BINFMT_DIR"
  printf '%s' "$QEMU_BINFMT" > "$BINFMT_DIR/register"
fi
unset QEMU_BINFMT BINFMT_DIR
exec chroot "$root" "$@"`;

/**
 * Starts `argv` inside the tree as the kubelet would: stdin piped and closed after `input`, a
 * plain environment (PATH, plus `env`).
 */
export function startInTree(tree: HostTree, argv: string[], options: { input?: string; env?: Record<string, string>; keepStdinOpen?: boolean; timeoutMs?: number } = {}): TreeRun {
  const userns = tree.arch === 'arm64' ? ['--user', '--map-root-user'] : [];
  const env: Record<string, string> = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(options.env ?? {}) };
  if (tree.arch === 'arm64') Object.assign(env, { QEMU_BINFMT: QEMU_AARCH64, BINFMT_DIR: join(tree.root, '..', 'binfmt') });
  const child = spawn('unshare', [...userns, '--mount', '--propagation', 'private', '--fork', '--kill-child', '--', '/bin/sh', '-c', SANDBOX, 'sandbox', tree.root, ...argv], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 120_000,
    // unshare ignores SIGTERM while it waits; SIGKILL ends it, and --kill-child its child.
    killSignal: 'SIGKILL',
  });
  const result = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
  child.stdin.on('error', () => undefined);
  if (options.input !== undefined) child.stdin.write(options.input);
  if (!options.keepStdinOpen) child.stdin.end();
  return { pid: child.pid!, result };
}

export const runInTree = (tree: HostTree, argv: string[], options: { input?: string; env?: Record<string, string> } = {}) => startInTree(tree, argv, options).result;
