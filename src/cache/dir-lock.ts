// The small lock for code that must stay light (hit path, log rotation, counters): a directory
// taken with mkdir, which is atomic. A lock whose mtime is older than `staleMs` belongs to a dead
// process and is taken over. The miss path's refresh lock is proper-lockfile (same mkdir idea,
// plus its own mtime upkeep); this is for the places that must not load it.
import { mkdirSync, rmdirSync, statSync } from 'node:fs';

/** True when we now hold `lock`; false when a live holder has it (or it cannot be made). */
export function takeDirLock(lock: string, staleMs: number): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    try {
      if (isDirLockFresh(lock, staleMs)) return false;
      rmdirSync(lock);
    } catch {
      // vanished meanwhile: try again
    }
  }
  return false;
}

/** True while `lock` exists and was touched within `staleMs`. */
export function isDirLockFresh(lock: string, staleMs: number): boolean {
  try {
    return Date.now() - statSync(lock).mtimeMs <= staleMs;
  } catch {
    return false;
  }
}
