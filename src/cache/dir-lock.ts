// The small lock used by the refresh lock (refresh-lock.ts), log rotation and counter compaction:
// a directory taken with mkdir, which is atomic. A lock whose mtime is older than `staleMs`
// belongs to a dead process and is taken over: the one stale-takeover rule of the provider.
import { mkdirSync, rmdirSync, statSync } from 'node:fs';

/** True when we now hold `lock`; false when a live holder has it (or it cannot be made). */
export function takeDirLock(lock: string, staleMs: number): boolean {
  return tryDirLock(lock, staleMs) === 'taken';
}

/** `taken`, `held` (by a live holder), or the error code that keeps the lock from being made. */
export function tryDirLock(lock: string, staleMs: number): 'taken' | 'held' | { error: string } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      return 'taken';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') return { error: code ?? 'error' };
    }
    try {
      if (isDirLockFresh(lock, staleMs)) return 'held';
      rmdirSync(lock);
    } catch {
      // vanished meanwhile: try again
    }
  }
  // Taken over by someone else between our attempts.
  return 'held';
}

/** True while `lock` exists and was touched within `staleMs` (real time: it is about processes). */
export function isDirLockFresh(lock: string, staleMs: number): boolean {
  try {
    return Date.now() - statSync(lock).mtimeMs <= staleMs;
  } catch {
    return false;
  }
}
