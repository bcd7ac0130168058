// Replacing a file atomically inside a checked directory: a new temp file created with
// O_CREAT|O_EXCL|O_NOFOLLOW (nothing that was there before, symlink or not, is opened), written,
// fsynced, given its mode, then renamed over the name. rename(2) replaces whatever had the name, a
// symbolic link or a file of someone else's, without following it, and the new file is ours:
// write-file-atomic instead resolves symbolic links first and chowns its temp file to the owner of
// the file it replaces, which is exactly how a planted file would have received a token.
import { closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import type { TrustedDir } from './trusted-dir.ts';

let tempCounter = 0;

export function replaceFileAtomically(dir: TrustedDir, name: string, data: string | Uint8Array, mode: number): void {
  // A leading dot: never a cache key's file name. A name someone took first makes O_EXCL fail:
  // the write fails, it never goes into their file.
  const temp = `.${name}.${process.pid}.${Date.now().toString(36)}.${tempCounter++}.tmp`;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(dir.at(temp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      // The umask may have narrowed the mode at creation (0644 for node-exporter is intended).
      fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(dir.at(temp), dir.at(name));
  } catch (error) {
    try {
      unlinkSync(dir.at(temp));
    } catch {
      // never created or already renamed
    }
    throw error;
  }
}
