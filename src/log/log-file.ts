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
// Everything is synchronous: a process writes a handful of lines at most, and must not keep the
// event loop alive or lose a line at exit.
import { closeSync, constants, fstatSync, fchmodSync, mkdirSync, openSync, renameSync, rmdirSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { takeDirLock } from '../cache/dir-lock.ts';
import type { LogSink } from './logger.ts';

export const DEFAULT_LOG_FILE_MAX_BYTES = 10 * 1024 * 1024;
/** The live file plus two rotated ones. */
export const DEFAULT_LOG_FILE_MAX_FILES = 3;
const LOCK_STALE_MS = 10_000;
const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

export interface LogFileOptions {
  maxBytes?: number;
  maxFiles?: number;
}

export class LogFile implements LogSink {
  readonly path: string;
  readonly maxBytes: number;
  readonly maxFiles: number;

  constructor(path: string, options: LogFileOptions = {}) {
    this.path = path;
    this.maxBytes = options.maxBytes ?? DEFAULT_LOG_FILE_MAX_BYTES;
    this.maxFiles = Math.max(2, options.maxFiles ?? DEFAULT_LOG_FILE_MAX_FILES);
  }

  write(line: string): void {
    const data = Buffer.from(`${line}\n`, 'utf8');
    const fd = this.open();
    let size: number;
    try {
      // One write: with O_APPEND the kernel places it at the end, whole.
      writeSync(fd, data, 0, data.length);
      const stat = fstatSync(fd);
      if ((stat.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
      size = stat.size;
    } finally {
      closeSync(fd);
    }
    if (size > this.maxBytes) this.rotate();
  }

  private open(): number {
    try {
      return openSync(this.path, OPEN_FLAGS, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      return openSync(this.path, OPEN_FLAGS, 0o600);
    }
  }

  /** Shifts file → file.1 → … → file.(maxFiles-1); returns false when another process holds the lock. */
  rotate(): boolean {
    const lock = `${this.path}.rotate-lock`;
    if (!takeDirLock(lock, LOCK_STALE_MS)) return false;
    try {
      // Someone may have rotated between our write and our lock (the file may not even be
      // recreated yet).
      let size: number;
      try {
        size = statSync(this.path).size;
      } catch {
        return true;
      }
      if (size <= this.maxBytes) return true;
      for (let i = this.maxFiles - 1; i >= 1; i--) {
        const from = i === 1 ? this.path : `${this.path}.${i - 1}`;
        try {
          renameSync(from, `${this.path}.${i}`);
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

