// Content the installer keeps to put a file back: small files inline (base64) in the manifest or
// the journal, larger ones (a binary that was there before) as a copy in the state directory's
// backups/, named by its sha256 and copied by streaming.
import type { Content } from './changes.ts';
import type { HostFs } from './host-fs.ts';
import { BACKUP_DIR } from './paths.ts';

const INLINE_LIMIT = 1024 * 1024;

export interface Stored {
  sha256: string;
  size: number;
  mode: number;
  inline?: string; // base64
  backup?: string; // host path under BACKUP_DIR
}

/** Keeps `content` (the current content of host file `path`), or null when the file is absent. */
export async function store(fs: HostFs, path: string, content: Content | undefined, mode: number | undefined): Promise<Stored | null> {
  if (content === undefined) return null;
  const base = { sha256: content.sha256, size: content.size, mode: mode ?? 0o644 };
  if (content.bytes !== undefined && content.size <= INLINE_LIMIT) return { ...base, inline: content.bytes.toString('base64') };
  const backup = `${BACKUP_DIR}/${content.sha256}`;
  if (fs.stat(backup)?.size !== content.size) {
    fs.mkdirs(BACKUP_DIR);
    if (content.bytes !== undefined) await fs.write(backup, content.bytes, 0o600);
    else fs.copyIn(fs.resolve(path), backup, 0o600, content);
  }
  return { ...base, backup };
}

/** Writes `stored` back to `path` (removes it for null). */
export async function putBack(fs: HostFs, path: string, stored: Stored | null): Promise<void> {
  if (stored === null) fs.remove(path);
  else if (stored.inline !== undefined) await fs.write(path, Buffer.from(stored.inline, 'base64'), stored.mode);
  else fs.copyIn(fs.resolve(stored.backup as string), path, stored.mode, stored);
}

/** The bytes of a stored text file. */
export function storedBytes(fs: HostFs, stored: Stored): Buffer | undefined {
  return stored.inline !== undefined ? Buffer.from(stored.inline, 'base64') : fs.read(stored.backup as string);
}

/** Deletes every backup that `keep` does not list. */
export function pruneBackups(fs: HostFs, keep: (Stored | null)[]): void {
  const wanted = new Set(keep.map((s) => s?.backup).filter((b) => b !== undefined));
  for (const name of fs.list(BACKUP_DIR)) if (!wanted.has(`${BACKUP_DIR}/${name}`)) fs.remove(`${BACKUP_DIR}/${name}`);
  fs.rmdirIfEmpty(BACKUP_DIR);
}
