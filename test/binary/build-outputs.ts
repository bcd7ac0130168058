// Builds what the binary and image tests need, once, and only when missing or older than its
// inputs: `npm test` rebuilds the bundle first, so binaries made from an older bundle are
// rebuilt. The build scripts are run directly (not `npm run build:*`, which would rebuild the
// bundle while other test files may be running it). Test files that run in parallel share one
// lock directory so a build is never run twice at once.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUNDLE_PATH, REPO_ROOT } from '../helpers/run-provider.ts';

export const BIN_DIR = join(REPO_ROOT, 'dist', 'bin');
export const binaryOf = (arch: 'amd64' | 'arm64'): string => join(BIN_DIR, `aliyun-acr-credential-provider-linux-${arch}`);
export const OCI_LAYOUT = join(REPO_ROOT, 'dist', 'image', 'oci');
export const payloadDirOf = (arch: 'amd64' | 'arm64'): string => join(REPO_ROOT, 'dist', 'payload', `linux-${arch}`);
const LOCK = join(REPO_ROOT, 'dist', '.packaging-build.lock');

/** undefined if `cmd` is on PATH, else a reason to skip. */
export function missingTool(...cmds: string[]): string | undefined {
  const missing = cmds.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status !== 0);
  return missing.length ? `not installed: ${missing.join(', ')} (.ci/run installs them)` : undefined;
}

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : -1;
}

async function withLock<T>(fn: () => T): Promise<T> {
  mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a killed test run: builds take well under 10 minutes.
      if (Date.now() - mtime(LOCK) > 10 * 60_000) rmdirSync(LOCK);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK}`);
      await sleep(250);
    }
  }
  try {
    return fn();
  } finally {
    rmdirSync(LOCK);
  }
}

function runBuild(script: string): void {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'packaging', 'build', script)], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`packaging/build/${script} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** Both single-file binaries, built from the current bundle. */
export async function ensureBinaries(): Promise<void> {
  if (!existsSync(BUNDLE_PATH)) throw new Error(`${BUNDLE_PATH} is missing: run npm run build`);
  const fresh = (): boolean => (['amd64', 'arm64'] as const).every((a) => mtime(binaryOf(a)) >= mtime(BUNDLE_PATH));
  if (fresh()) return;
  await withLock(() => {
    if (!fresh()) runBuild('binary.ts');
  });
}

/** Both payload directories (dist/payload/linux-<arch>), built from the current binaries. */
export async function ensurePayloads(): Promise<void> {
  await ensureBinaries();
  const manifest = (a: 'amd64' | 'arm64'): string => join(payloadDirOf(a), 'manifest.json');
  const inputs = [join(REPO_ROOT, 'packaging', 'build', 'payload.ts'), join(REPO_ROOT, 'src', 'payload', 'manifest.ts')];
  const fresh = (): boolean => (['amd64', 'arm64'] as const).every((a) => [binaryOf(a), ...inputs].every((i) => mtime(manifest(a)) >= mtime(i)));
  if (fresh()) return;
  await withLock(() => {
    if (!fresh()) runBuild('payload.ts');
  });
}

/** The OCI layout of the image index, built from the current payloads and image sources. */
export async function ensureImage(): Promise<void> {
  await ensurePayloads();
  const index = join(OCI_LAYOUT, 'index.json');
  const inputs = [join(payloadDirOf('amd64'), 'manifest.json'), join(payloadDirOf('arm64'), 'manifest.json'), join(REPO_ROOT, 'packaging', 'image', 'Containerfile'), join(REPO_ROOT, 'packaging', 'build', 'image.ts')];
  const fresh = (): boolean => inputs.every((i) => mtime(index) >= mtime(i));
  if (fresh()) return;
  await withLock(() => {
    if (!fresh()) runBuild('image.ts');
  });
}
