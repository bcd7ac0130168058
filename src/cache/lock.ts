// Cross-process lock for single-flight refreshes. proper-lockfile takes the lock with an atomic
// mkdir and keeps its mtime fresh while held; a lock whose holder died goes stale after
// LOCK_STALE_MS and the next caller takes it over, so a killed process blocks others only briefly.
import lockfile from 'proper-lockfile';
import { LOCK_STALE_MS } from './refresh-watch.ts';

const UPDATE_MS = 1000;

export type ReleaseLock = () => Promise<void>;

/** Takes the lock if it is free (or stale); returns undefined when someone else holds it. `path`
 *  is inside the cache's checked locks/ directory (store.ts), which exists. */
export async function tryLock(path: string, onCompromised: (reason: string) => void): Promise<ReleaseLock | undefined> {
  try {
    const release = await lockfile.lock(path, {
      realpath: false,
      stale: LOCK_STALE_MS,
      update: UPDATE_MS,
      retries: 0,
      onCompromised: (error) => onCompromised(error.message),
    });
    return async () => {
      await release().catch(() => undefined);
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw error;
  }
}
