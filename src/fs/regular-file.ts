// Reading and appending to files that someone else may have replaced by a FIFO, a device, a
// symbolic link, a huge file or a file of their own. Every open is O_NONBLOCK (a FIFO or a device
// never blocks the open, and nothing is read from them), the descriptor is checked with fstat
// before a byte moves, and every read is capped. Synchronous on purpose: these are small files on
// the kubelet's hot path, where the thread pool would cost more than the reads.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** Who may own a file, and whether others may have any access to it. */
export interface FileRule {
  owner: 'self' | 'root-or-self' | 'anyone';
  /** No group or other permission bits at all. */
  private?: boolean;
  /** Refuse a symbolic link as the last component (ELOOP) instead of following it. */
  noFollow?: boolean;
}

/** A file that is there but must not be used; `reason` reads after the file's name. */
export class UnsafeFileError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.name = 'UnsafeFileError';
    this.reason = reason;
  }
}

/** Throws UnsafeFileError when the open file `st` breaks `rule`. */
export function checkFile(st: Stats, rule: FileRule): void {
  if (!st.isFile()) throw new UnsafeFileError('is not a regular file');
  const euid = process.geteuid!();
  if (rule.owner === 'self' && st.uid !== euid) throw new UnsafeFileError(`is owned by uid ${st.uid}, not by us (uid ${euid})`);
  if (rule.owner === 'root-or-self' && st.uid !== 0 && st.uid !== euid) throw new UnsafeFileError(`is owned by uid ${st.uid}, not by root or us (uid ${euid})`);
  if (rule.private && (st.mode & 0o077) !== 0) throw new UnsafeFileError(`is accessible to group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`);
}

/**
 * The whole content of the regular file at `path`, at most `maxBytes`. Errors: the fs error for a
 * file that cannot be opened (ENOENT, EACCES; ELOOP for a symbolic link under `noFollow`),
 * UnsafeFileError for one that is there but breaks `rule` or the cap.
 */
export function readRegularFile(path: string, maxBytes: number, rule: FileRule): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (rule.noFollow ? constants.O_NOFOLLOW : 0));
  try {
    const st = fstatSync(fd);
    checkFile(st, rule);
    if (st.size > maxBytes) throw tooLarge(maxBytes);
    // Read until EOF: the file may have grown since fstat, but never past the cap.
    let buffer = Buffer.allocUnsafe(Math.min(maxBytes, st.size) + 1);
    let size = 0;
    for (;;) {
      if (size === buffer.length) {
        if (size > maxBytes) throw tooLarge(maxBytes);
        const bigger = Buffer.allocUnsafe(Math.min(maxBytes + 1, buffer.length * 2));
        buffer.copy(bigger, 0, 0, size);
        buffer = bigger;
      }
      const n = readSync(fd, buffer, size, buffer.length - size, size);
      if (n === 0) return buffer.subarray(0, size);
      size += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens `path` for appending (created 0600 when missing, never through a symbolic link) and checks
 * it is a regular file that `rule` allows; returns the descriptor and what fstat said.
 */
export function openForAppend(path: string, rule: Omit<FileRule, 'noFollow'>): { fd: number; stat: Stats } {
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  try {
    const stat = fstatSync(fd);
    checkFile(stat, rule);
    // Another name for the same file (a hard link planted elsewhere) would expose what we write.
    if (stat.nlink > 1) throw new UnsafeFileError(`has ${stat.nlink} hard links`);
    return { fd, stat };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

export function describeSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}

function tooLarge(maxBytes: number): UnsafeFileError {
  return new UnsafeFileError(`is larger than ${describeSize(maxBytes)}`);
}
