// The small lock used by the refresh lock (refresh-lock.ts), log rotation and counter compaction:
// a directory taken with mkdir, which is atomic. The one stale-takeover rule of the provider: a
// lock whose mtime is older than `staleMs` belongs to a dead process and is taken over, unless it
// names its holder (a `pid` file inside, written by takers that ask for it) and that process is
// alive: a holder starved of CPU, or compiling the miss path, cannot touch its lock on time but
// is still at work. A holder alive past MAX_HOLD_MS is stuck (the kubelet kills a plugin after
// 60 s; the pid may be another process's by now), and its lock is taken over too.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readRegularFile } from '../fs/regular-file.ts';

export const MAX_HOLD_MS = 65_000;
const HOLDER_FILE = 'pid';

/** True when we now hold `lock`; false when a live holder has it (or it cannot be made). */
export function takeDirLock(lock: string, staleMs: number): boolean {
  return tryDirLock(lock, staleMs) === 'taken';
}

/**
 * `taken`, `held` (by a live holder), or the error code that keeps the lock from being made. With
 * `recordHolder`, the lock names this process, and must be released with a recursive removal.
 */
export function tryDirLock(lock: string, staleMs: number, recordHolder = false): 'taken' | 'held' | { error: string } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(lock, { mode: 0o700 });
      if (recordHolder) {
        try {
          writeFileSync(`${lock}/${HOLDER_FILE}`, String(process.pid), { mode: 0o600, flag: 'wx' });
        } catch {
          // unnamed, the lock is judged by its mtime alone
        }
      }
      return 'taken';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') return { error: code ?? 'error' };
    }
    try {
      if (isDirLockFresh(lock, staleMs)) return 'held';
      rmSync(lock, { recursive: true });
    } catch {
      // vanished meanwhile: try again
    }
  }
  // Taken over by someone else between our attempts.
  return 'held';
}

/**
 * True while `lock` exists and was touched within `staleMs`, or names a live holder and is younger
 * than MAX_HOLD_MS. Real time: it is about processes.
 */
export function isDirLockFresh(lock: string, staleMs: number): boolean {
  let age: number;
  try {
    age = Date.now() - statSync(lock).mtimeMs;
  } catch {
    return false;
  }
  if (age <= staleMs) return true;
  return age <= MAX_HOLD_MS && holderAlive(lock);
}

function holderAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readRegularFile(`${lock}/${HOLDER_FILE}`, 32, { owner: 'root-or-self', noFollow: true }).toString('latin1'));
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
