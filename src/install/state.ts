// The installer's record on the node (/var/lib/aliyun-acr-credential-provider/installer):
// for every host file it touched, whether it existed, its mode and its original content, and
// the hash of what we last wrote, so uninstall can restore the node byte-identically and can
// tell when someone else changed a file since. Directories we created are listed too.
import type { HostFs } from './host-fs.ts';
import { sha256, type ChangeKind, type FileChange } from './changes.ts';
import { InstallError } from './errors.ts';
import { MANIFEST_FILE, STATE_DIR } from './paths.ts';

const INLINE_LIMIT = 1024 * 1024; // larger originals (a pre-existing binary) go to a side file

export interface ManifestEntry {
  path: string;
  kind: ChangeKind;
  existed: boolean;
  mode?: number;
  content?: string; // base64
  contentFile?: string; // host path of a side file holding the original
  written: string; // sha256 of what we last wrote, or "absent"
}

export interface Manifest {
  version: 1;
  layout: string;
  unit?: string;
  entries: ManifestEntry[];
  createdDirs: string[];
}

export function readManifest(fs: HostFs): Manifest | undefined {
  const text = fs.readText(MANIFEST_FILE);
  if (text === undefined) return undefined;
  try {
    const m = JSON.parse(text) as Manifest;
    if (m.version !== 1 || !Array.isArray(m.entries)) throw new Error('unknown format');
    return m;
  } catch {
    throw new InstallError(`cannot read the installer state ${MANIFEST_FILE}; restore or remove it by hand`);
  }
}

export function emptyManifest(layout: string, unit: string | undefined): Manifest {
  return { version: 1, layout, ...(unit ? { unit } : {}), entries: [], createdDirs: [] };
}

/** Records the originals of files not seen before (earlier originals are kept) and what we write now. */
export async function recordChanges(fs: HostFs, manifest: Manifest, changes: FileChange[]): Promise<Manifest> {
  const entries = manifest.entries.map((e) => ({ ...e }));
  for (const change of changes) {
    let entry = entries.find((e) => e.path === change.path);
    if (entry === undefined) {
      entry = { path: change.path, kind: change.kind, existed: change.before !== undefined, written: '' };
      if (change.before !== undefined) {
        entry.mode = change.beforeMode;
        if (change.before.length <= INLINE_LIMIT) entry.content = change.before.toString('base64');
        else {
          const side = `${STATE_DIR}/originals/${sha256(change.before)}`;
          fs.mkdirs(`${STATE_DIR}/originals`);
          await fs.write(side, change.before, 0o600);
          entry.contentFile = side;
        }
      }
      entries.push(entry);
    }
    entry.written = sha256(change.after);
  }
  return { ...manifest, entries };
}

export function originalContent(fs: HostFs, entry: ManifestEntry): Buffer | undefined {
  if (!entry.existed) return undefined;
  if (entry.content !== undefined) return Buffer.from(entry.content, 'base64');
  const side = entry.contentFile === undefined ? undefined : fs.read(entry.contentFile);
  if (side === undefined) throw new InstallError(`the backup of ${entry.path} is missing from ${STATE_DIR}; restore that file by hand`);
  return side;
}

export async function writeManifest(fs: HostFs, manifest: Manifest): Promise<void> {
  await fs.write(MANIFEST_FILE, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 0o600);
}
