// The optional log file (`logFile` / --log-file). The kubelet discards a plugin's stderr unless
// the call fails, so this is where an operator finds what happened on successful calls too.
//
// Many provider processes append at once, so:
// - every line is one write(2) on a descriptor opened with O_APPEND: the kernel appends it
//   atomically at the end of the file, lines never interleave;
// - rotation is by rename under a lock directory (mkdir is atomic): `file` → `file.1` → `file.2`
//   (the oldest is dropped). A process that opened the file just before the rename keeps the
//   same inode and its line lands in `file.1`: rename never loses a line;
// - a lock left by a killed process goes stale after LOCK_STALE_MS;
// - files are created 0600 (they may name hosts and roles, never secrets).
// The lines are for root's eyes only, so the file is written only in a directory that no other
// user can change (it and every directory above it root's or ours, not writable by others unless
// sticky, src/fs/trusted-dir.ts; writable by its group is accepted: Ubuntu's /var/log is 0775
// root:syslog, and the lines hold no secret), and only if it is a regular file of ours with no other name: a
// FIFO would block, a file someone else created first would let them read along. Such a file is
// refused (LogFileRefused, one warning line), not removed: what to do with it is the operator's call.
// Everything is synchronous: a process writes a handful of lines at most, and must not keep the
// event loop alive or lose a line at exit.
import { basename, dirname } from 'node:path';
import { closeSync, fchmodSync, lstatSync, renameSync, rmdirSync, writeSync } from 'node:fs';
import { takeDirLock } from '../cache/dir-lock.ts';
import { openForAppend, UnsafeFileError } from '../fs/regular-file.ts';
import { openTrustedDir, UntrustedDirError, type TrustedDir } from '../fs/trusted-dir.ts';
import type { LogSink } from './logger.ts';

export const DEFAULT_LOG_FILE_MAX_BYTES = 10 * 1024 * 1024;
/** The live file plus two rotated ones. */
export const DEFAULT_LOG_FILE_MAX_FILES = 3;
const LOCK_STALE_MS = 10_000;

export interface LogFileOptions {
  maxBytes?: number;
  maxFiles?: number;
}

/** The log file cannot be used safely; the message says why, for one warning line. */
export class LogFileRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogFileRefused';
  }
}

export class LogFile implements LogSink {
  readonly path: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
  private readonly name: string;
  private dir: TrustedDir | undefined;

  constructor(path: string, options: LogFileOptions = {}) {
    this.path = path;
    this.name = basename(path);
    this.maxBytes = options.maxBytes ?? DEFAULT_LOG_FILE_MAX_BYTES;
    this.maxFiles = Math.max(2, options.maxFiles ?? DEFAULT_LOG_FILE_MAX_FILES);
  }

  write(line: string): void {
    const data = Buffer.from(`${line}\n`, 'utf8');
    const dir = this.directory();
    let opened;
    try {
      opened = openForAppend(dir.at(this.name), { owner: 'self' });
    } catch (error) {
      if (error instanceof UnsafeFileError) throw new LogFileRefused(`log file ${this.path} ${error.reason}: not writing to it`);
      const code = (error as NodeJS.ErrnoException).code;
      // ENXIO: a FIFO that nobody reads (O_NONBLOCK makes the open fail instead of waiting).
      const why = code === 'ELOOP' ? 'is a symbolic link' : code === 'ENXIO' ? 'is not a regular file' : `cannot be opened (${code ?? 'error'})`;
      throw new LogFileRefused(`log file ${this.path} ${why}: not writing to it`);
    }
    const { fd, stat } = opened;
    try {
      if ((stat.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
      // One write: with O_APPEND the kernel places it at the end, whole.
      writeSync(fd, data, 0, data.length);
    } finally {
      closeSync(fd);
    }
    if (stat.size + data.length > this.maxBytes) this.rotate();
  }

  /** The log file's directory, opened and checked once (created 0700 when missing). */
  private directory(): TrustedDir {
    if (!this.dir) {
      try {
        // groupMayWrite: /var/log is 0775 root:syslog on Ubuntu, and the file itself is checked.
        this.dir = openTrustedDir(dirname(this.path), { owner: 'root-or-self', mode: 'not-writable-by-others', create: true, groupMayWrite: true });
      } catch (error) {
        if (error instanceof UntrustedDirError) throw new LogFileRefused(`log file ${this.path}: its directory ${error.reason}; not writing to it`);
        throw error;
      }
    }
    return this.dir;
  }

  /** Shifts file → file.1 → … → file.(maxFiles-1); returns false when another process holds the lock. */
  rotate(): boolean {
    const dir = this.directory();
    const lock = dir.at(`${this.name}.rotate-lock`);
    if (!takeDirLock(lock, LOCK_STALE_MS)) return false;
    try {
      // Someone may have rotated between our write and our lock (the file may not even be
      // recreated yet).
      let size: number;
      try {
        size = lstatSync(dir.at(this.name)).size;
      } catch {
        return true;
      }
      if (size <= this.maxBytes) return true;
      for (let i = this.maxFiles - 1; i >= 1; i--) {
        const from = i === 1 ? this.name : `${this.name}.${i - 1}`;
        try {
          renameSync(dir.at(from), dir.at(`${this.name}.${i}`));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      return true;
    } finally {
      try {
        rmdirSync(lock);
      } catch {
        // already taken over as stale: nothing to release
      }
    }
  }
}
