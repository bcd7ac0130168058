// The on-disk cache behind a small interface: Keyv on top of the hardened keyv-file store.
// Values are untrusted when read (another version or a damaged file may have written them):
// callers validate them with a type guard.
import { join } from 'node:path';
import { Keyv } from 'keyv';
import { SafeFilenameEncoder } from 'keyv-file/lib/safe-encoder.js';
import { HardenedFileStore } from './file-store.ts';

/** Bump when the shape of any cached value changes: old entries are then simply not found. */
const SCHEMA_NAMESPACE = 'v1';

export interface CacheStore {
  get<T>(key: string, guard: (value: unknown) => value is T): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Path that guards refreshes of `key` (the lock itself is the directory `<path>.lock`). */
  lockPathFor(key: string): string;
}

export function openCacheStore(directory: string, onIgnoredFile: (reason: string) => void): CacheStore {
  const files = new HardenedFileStore(directory);
  files.onIgnoredFile = onIgnoredFile;
  const keyv = new Keyv({ store: files, namespace: SCHEMA_NAMESPACE, throwOnErrors: true });
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
      return join(directory, 'locks', SafeFilenameEncoder.encode(key));
    },
  };
}
