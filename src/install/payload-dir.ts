// The payload on the node: one versioned directory per payload, <bin dir>/.aliyun-acr-credential-provider/<payloadId>,
// beside the wrapper the kubelet executes. Beside it because that is the one place every layout
// already gives us on an executable file system the kubelet reads (it executes the wrapper
// there), under a directory the installer already checks is root's alone; hidden, because the
// kubelet only ever looks up <bin dir>/<provider name>, and people listing the bin dir see the
// executables. The bin dir's parent is no better: it may be / or a read-only /usr.
//
// A directory is copied file by file (streamed, size and sha256 checked as it copies, then its
// mode) into <id>.tmp and renamed to <id> only when complete; the wrapper's rename is the switch.
// Kept: the directory the wrapper names and the previous one (a kubelet call may be between
// reading the old wrapper and opening its files); older ones go once the transaction commits.
import { posix } from 'node:path';
import { PAYLOAD_MANIFEST } from '../payload/layout.ts';
import { fileMode, payloadId, parseManifest, type PayloadManifest } from '../payload/manifest.ts';
import type { HostFs } from './host-fs.ts';
import type { PayloadSource } from './payload-source.ts';
import { PROVIDER_NAME } from './paths.ts';

export const PAYLOAD_BASE_NAME = `.${PROVIDER_NAME}`;
const TMP = '.tmp';
const REPLACED = '.replaced';
// <version>-<arch>-<16 hex>, optionally with our temp suffixes: the only names pruning touches.
const OUR_ENTRY = /^[0-9A-Za-z.+-]{1,64}-(amd64|arm64)-[0-9a-f]{16}(\.tmp|\.replaced)?$/;

/** Where a bin dir's payloads go (host path, symlinks resolved). */
export function payloadBase(fs: HostFs, binDir: string): string {
  return `${fs.realHostPath(binDir)}/${PAYLOAD_BASE_NAME}`;
}

/** Installing one payload: into `dir` (host path), moving a damaged copy already there aside. */
export interface PayloadStep {
  dir: string;
  source: PayloadSource;
  replace: boolean;
  problem?: string; // why the copy there is replaced
}

/** The step to install `source` in `base`, or undefined when an intact copy is already there. */
export function planPayload(fs: HostFs, base: string, source: PayloadSource): PayloadStep | undefined {
  const dir = `${base}/${source.id}`;
  const st = fs.stat(dir);
  if (st === undefined) return { dir, source, replace: false };
  const problem = st.isDirectory ? payloadProblem(fs, dir, source.manifestBytes) : `${dir} is not a directory`;
  return problem === undefined ? undefined : { dir, source, replace: true, problem };
}

/**
 * What differs between an installed directory and its manifest (`expected`: the manifest it must
 * hold; default: the one it holds), or undefined when every listed file has its size, sha256 and
 * mode, everything in it is root's and writable by root alone (the kubelet runs it as root), and
 * nothing else is there.
 */
export function payloadProblem(fs: HostFs, dir: string, expected?: Buffer): string | undefined {
  const entries = ['', ...listTree(fs, dir)].map((rel) => (rel === '' ? dir : `${dir}/${rel}`));
  for (const path of entries) {
    const st = fs.stat(path);
    if (st === undefined) continue;
    if (st.uid !== 0 && st.uid !== process.geteuid?.()) return `${path} is owned by uid ${st.uid}`;
    if ((st.mode & 0o022) !== 0) return `${path} has mode 0${st.mode.toString(8)}, not ${st.isDirectory ? '0755' : 'writable by root alone'}`;
  }
  const text = fs.read(`${dir}/${PAYLOAD_MANIFEST}`);
  if (text === undefined) return `${dir}/${PAYLOAD_MANIFEST} is missing`;
  if (expected !== undefined && !text.equals(expected)) return `${dir}/${PAYLOAD_MANIFEST} differs from the payload's`;
  let manifest: PayloadManifest;
  try {
    manifest = parseManifest(text.toString('utf8'));
  } catch (error) {
    return `${dir}/${PAYLOAD_MANIFEST}: ${(error as Error).message}`;
  }
  if (posix.basename(dir) !== payloadId(manifest)) return `${dir} holds the payload ${payloadId(manifest)}`;
  const listed = new Set([PAYLOAD_MANIFEST, ...manifest.files.map((f) => f.path)]);
  for (const f of manifest.files) {
    const path = `${dir}/${f.path}`;
    if (fs.realHostPath(path) !== path) return `${path} is a symbolic link`;
    const st = fs.stat(path);
    if (st === undefined || !st.isFile) return `${path} is ${st === undefined ? 'missing' : 'not a regular file'}`;
    if (st.mode !== fileMode(f)) return `${path} has mode 0${st.mode.toString(8)}, not ${f.mode}`;
    if (st.size !== f.size) return `${path} has ${st.size} bytes, not ${f.size}`;
    if (fs.digest(path)?.sha256 !== f.sha256) return `${path} does not have its sha256`;
  }
  const extra = listTree(fs, dir).find((p) => !listed.has(p) && ![...listed].some((l) => l.startsWith(`${p}/`)));
  return extra === undefined ? undefined : `${dir}/${extra} is not part of the payload`;
}

function listTree(fs: HostFs, dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of fs.list(`${dir}/${prefix}`)) {
    const rel = `${prefix}${name}`;
    out.push(rel);
    const path = `${dir}/${rel}`;
    if (fs.realHostPath(path) === path && fs.stat(path)?.isDirectory) out.push(...listTree(fs, dir, `${rel}/`));
  }
  return out;
}

/** Copies the payload into <dir>.tmp, checking every file, then renames it to <dir>. */
export async function installPayload(fs: HostFs, step: PayloadStep): Promise<void> {
  const { dir, source } = step;
  const base = posix.dirname(dir);
  const id = posix.basename(dir);
  const tmp = `${dir}${TMP}`;
  fs.removeTree(tmp); // a copy an earlier run left half done
  fs.mkdirs(tmp);
  for (const f of source.manifest.files) {
    fs.mkdirs(posix.dirname(`${tmp}/${f.path}`));
    fs.copyIn(posix.join(source.dir, f.path), `${tmp}/${f.path}`, fileMode(f), f);
  }
  await fs.write(`${tmp}/${PAYLOAD_MANIFEST}`, source.manifestBytes, 0o644);
  if (step.replace) {
    fs.removeTree(`${dir}${REPLACED}`);
    fs.renameWithin(base, id, `${id}${REPLACED}`);
  }
  fs.renameWithin(base, `${id}${TMP}`, id);
}

/** Undoes installPayload, whatever step it stopped at. */
export function rollbackPayload(fs: HostFs, dir: string, replaced: boolean): void {
  const base = posix.dirname(dir);
  const id = posix.basename(dir);
  fs.removeTree(`${dir}${TMP}`);
  if (!replaced) return fs.removeTree(dir);
  if (fs.stat(`${dir}${REPLACED}`) === undefined) return; // never moved aside
  fs.removeTree(dir);
  fs.renameWithin(base, `${id}${REPLACED}`, id);
}

/** Removes every payload directory (and leftover temp copy) in `base` except those in `keep`. */
export function prunePayloads(fs: HostFs, base: string, keep: string[]): void {
  const kept = new Set(keep.map((d) => posix.basename(d)));
  for (const name of fs.list(base)) if (OUR_ENTRY.test(name) && !kept.has(name)) fs.removeTree(`${base}/${name}`);
}
