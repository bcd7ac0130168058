// The installer's record on the node (/var/lib/aliyun-acr-credential-provider/installer/
// manifest.json): what install changed, so uninstall can take exactly that out again. For each
// file: its content before our latest edit on top of someone else's content (restored only while
// the file still holds what we wrote: never a stale snapshot over newer content), the digest of
// what we wrote, and for a flags file the words we added (removed surgically once it changed).
// It is written inside the same transaction as the files it describes.
import { bytes, optionalBytes, type ChangeKind, type FileChange } from './changes.ts';
import { ProviderError } from '../errors.ts';
import type { HostFs } from './host-fs.ts';
import type { DetectOptions, LayoutName } from './layouts/types.ts';
import { MANIFEST_FILE } from './paths.ts';
import { store, type Stored } from './stored.ts';

export interface FileRecord {
  path: string; // host path, symlinks resolved
  kind: ChangeKind;
  original: Stored | null; // null: the file did not exist
  written: string; // sha256 of what we last wrote
  words?: string[]; // kubelet-flags: the flags we added
}

export interface Manifest {
  version: 2;
  layout: LayoutName;
  unit?: string;
  detect: DetectOptions; // how install found the kubelet, to look at it again on uninstall
  files: FileRecord[];
  createdDirs: string[]; // host paths
  payloads?: string[]; // installed payload directories (host paths): the wrapper's, then the previous one
}

export const MANIFEST_MODE = 0o600;

export function readManifest(fs: HostFs): Manifest | undefined {
  const text = fs.readText(MANIFEST_FILE);
  if (text === undefined) return undefined;
  try {
    const m = JSON.parse(text) as Manifest;
    if (m.version !== 2 || !Array.isArray(m.files)) throw new Error('unknown format');
    return m;
  } catch {
    throw new ProviderError('install', `cannot read the installer state ${MANIFEST_FILE} (written by another version?); restore or remove it by hand`);
  }
}

/** The manifest after `changes`: a file's original is kept while it still held what we wrote. */
export async function nextManifest(fs: HostFs, previous: Manifest | undefined, head: Omit<Manifest, 'version' | 'files' | 'createdDirs'>, changes: FileChange[], addedWords: string[], createdDirs: string[]): Promise<Manifest> {
  const files = (previous?.files ?? []).map((f) => ({ ...f }));
  for (const c of changes) {
    const index = files.findIndex((f) => f.path === c.path);
    let record = files[index];
    if (record === undefined || c.before?.sha256 !== record.written) {
      const words = record?.words;
      record = { path: c.path, kind: c.kind, original: await store(fs, c.path, c.before, c.beforeMode), written: '', ...(words ? { words } : {}) };
      if (index === -1) files.push(record);
      else files[index] = record;
    }
    record.written = c.after?.sha256 ?? '';
    if (c.kind === 'kubelet-flags') record.words = [...new Set([...(record.words ?? []), ...addedWords])];
  }
  return { version: 2, ...head, files, createdDirs: [...new Set([...(previous?.createdDirs ?? []), ...createdDirs])] };
}

/** The change that writes `manifest` (or removes the file, for undefined). */
export function manifestChange(fs: HostFs, manifest: Manifest | undefined): FileChange {
  const before = optionalBytes(fs.read(MANIFEST_FILE));
  const after = manifest === undefined ? undefined : bytes(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  return { path: MANIFEST_FILE, kind: 'installer-state', before, beforeMode: fs.stat(MANIFEST_FILE)?.mode, after, mode: MANIFEST_MODE };
}
