// The on-disk cache behind a small interface: Keyv on top of the hardened file store, in a cache
// directory that has been opened and checked (cache-dir.ts). Values are untrusted when read
// (another version or a damaged file may have written them): callers validate them with a type
// guard.
import { Keyv } from 'keyv';
import type { TrustedDir } from '../fs/trusted-dir.ts';
import { cacheSubdir } from './cache-dir.ts';
import { HardenedFileStore } from './file-store.ts';

/** Bump when the shape of any cached value changes: old entries are then simply not found. */
const SCHEMA_NAMESPACE = 'v1';
const LOCKS_DIR = 'locks';

export interface CacheStore {
  get<T>(key: string, guard: (value: unknown) => value is T): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Path that guards refreshes of `key` (the lock itself is the directory `<path>.lock`), inside
   * the checked locks/ directory; undefined when that directory cannot be used.
   */
  lockPathFor(key: string): string | undefined;
}

export function openCacheStore(directory: TrustedDir, onIgnoredFile: (reason: string) => void): CacheStore {
  const files = new HardenedFileStore(directory);
  files.onIgnoredFile = onIgnoredFile;
  const keyv = new Keyv({ store: files, namespace: SCHEMA_NAMESPACE, throwOnErrors: true });
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
    lockPathFor(key) {
      if (locks === undefined) {
        const check = cacheSubdir(directory, LOCKS_DIR);
        if (check.usable) locks = check.dir;
        else {
          locks = null;
          onIgnoredFile(`the locks directory of the cache ${check.reason}; refreshing without coordination`);
        }
      }
      return locks === null ? undefined : locks.at(files.fileName(key));
    },
  };
}
