// The on-disk cache behind a small interface: Keyv on top of the hardened file store, in a cache
// directory that has been opened and checked (cache-dir.ts). Values are untrusted when read
// (another version or a damaged file may have written them): callers validate them with a type
// guard.
import { closeSync, constants, lstatSync, lutimesSync, openSync, readdirSync } from 'node:fs';
import { Keyv } from 'keyv';
import { SafeFilenameEncoder } from 'keyv-file/lib/safe-encoder.js';
import type { TrustedDir } from '../fs/trusted-dir.ts';
import { systemClock, type Clock } from '../resilience/clock.ts';
import { cacheSubdir } from './cache-dir.ts';
import { HardenedFileStore } from './file-store.ts';
import { dirRefreshLock, type RefreshLock } from './refresh-lock.ts';

/** Bump when the shape of any cached value changes: old entries are then simply not found. */
const SCHEMA_NAMESPACE = 'v1';
const LOCKS_DIR = 'locks';
/** served/<file>: an empty file per token key whose mtime is the last time a kubelet call was answered with it. */
const SERVED_DIR = 'served';

export interface CacheStore {
  get<T>(key: string, guard: (value: unknown) => value is T): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** The refresh lock of `key` (refresh-lock.ts), inside the checked locks/ directory; undefined when that cannot be used. */
  refreshLock(key: string): RefreshLock | undefined;
  /** Records that a kubelet call was answered from `key` now (best effort: one syscall). */
  markServed(key: string): void;
  /** When a kubelet call was last answered from `key`, if known. */
  lastServed(key: string): number | undefined;
  /** The keys of this cache that start with `prefix`. */
  keys(prefix: string): string[];
  /** Closes what the store opened (a long-running process opens one per pass). */
  close(): void;
}

export function openCacheStore(directory: TrustedDir, onIgnoredFile: (reason: string) => void, clock: Clock = systemClock): CacheStore {
  const files = new HardenedFileStore(directory, clock);
  files.onIgnoredFile = onIgnoredFile;
  const keyv = new Keyv({ store: files, namespace: SCHEMA_NAMESPACE, throwOnErrors: true });
  const markerName = (key: string): string => files.fileName(`${SCHEMA_NAMESPACE}:${key}`);
  let locks: TrustedDir | null | undefined;
  return {
    async get(key, guard) {
      let value: unknown;
      try {
        value = await keyv.get(key);
      } catch {
        onIgnoredFile(`cache entry ${key} could not be decoded; ignoring it`);
        return undefined;
      }
      if (value === undefined) return undefined;
      if (!guard(value)) {
        onIgnoredFile(`cache entry ${key} has an unexpected shape; ignoring it`);
        return undefined;
      }
      return value;
    },
    async set(key, value, ttlMs) {
      await keyv.set(key, value, Math.max(1, Math.round(ttlMs)));
    },
    async delete(key) {
      await keyv.delete(key);
    },
    refreshLock(key) {
      if (locks === undefined) {
        const check = cacheSubdir(directory, LOCKS_DIR);
        if (check.usable) locks = check.dir;
        else {
          locks = null;
          onIgnoredFile(`the locks directory of the cache ${check.reason}; refreshing without coordination`);
        }
      }
      return locks === null ? undefined : dirRefreshLock(locks.at(files.fileName(key)));
    },
    markServed(key) {
      const seconds = clock.now() / 1000;
      try {
        // The common case is one syscall. lutimes: a link planted as a marker is touched itself,
        // never its target; a marker holds nothing but its time.
        lutimesSync(`${directory.at(SERVED_DIR)}/${markerName(key)}`, seconds, seconds);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return;
        // First time for this key (or for this cache): create it through the checked subdirectory.
        const served = cacheSubdir(directory, SERVED_DIR);
        if (!served.usable) return;
        try {
          const marker = served.dir.at(markerName(key));
          closeSync(openSync(marker, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600));
          lutimesSync(marker, seconds, seconds);
        } catch {
          // best effort: the pre-warmer then goes by when the token was fetched
        } finally {
          served.dir.close();
        }
      }
    },
    lastServed(key) {
      const served = cacheSubdir(directory, SERVED_DIR);
      if (!served.usable) return undefined;
      try {
        const st = lstatSync(served.dir.at(markerName(key)));
        return st.isFile() && st.uid === process.geteuid!() ? st.mtimeMs : undefined;
      } catch {
        return undefined;
      } finally {
        served.dir.close();
      }
    },
    keys(prefix) {
      const namePrefix = files.fileName(`${SCHEMA_NAMESPACE}:${prefix}`);
      try {
        return readdirSync(directory.self())
          .filter((name) => name.startsWith(namePrefix))
          .map((name) => SafeFilenameEncoder.decode(name).slice(SCHEMA_NAMESPACE.length + 1))
          .filter((key) => key.startsWith(prefix));
      } catch {
        return [];
      }
    },
    close() {
      if (locks) locks.close();
      locks = undefined;
    },
  };
}
