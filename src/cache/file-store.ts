// The Keyv storage adapter: keyv-file's separated-file layout (one file per key, named by its
// SafeFilenameEncoder), hardened where keyv-file falls short:
// - every file is reached through the checked cache directory's descriptor (TrustedDir.at), never
//   by a path someone could redirect;
// - a file is read only if it is a regular file of ours, 0600, at most 256 KiB, opened O_NOFOLLOW
//   and O_NONBLOCK: a symbolic link, a FIFO, a file of another user or one others can read is
//   ignored (reported by key, never by content), so it is refetched and replaced;
// - writes create a new 0600 temp file and rename it over the name (src/fs/atomic-write.ts): old
//   or new, never half, never through a link, never keeping a previous owner;
// - reads are synchronous: its async read would start libuv's thread pool on the kubelet's
//   hottest path, and its error logging would print stack traces.
import { readdirSync, unlinkSync } from 'node:fs';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { SafeFilenameEncoder } from 'keyv-file/lib/safe-encoder.js';
import { replaceFileAtomically } from '../fs/atomic-write.ts';
import { readRegularFile, UnsafeFileError } from '../fs/regular-file.ts';
import type { TrustedDir } from '../fs/trusted-dir.ts';
import { systemClock, type Clock } from '../resilience/clock.ts';

/** A token record is a few hundred bytes; a file this large is not one of ours. */
export const MAX_ENTRY_BYTES = 256 * 1024;

interface StoredRecord {
  value: unknown;
  expire?: number;
}

export class HardenedFileStore implements Pick<KeyvStoreAdapter, 'get' | 'set' | 'delete' | 'clear' | 'on'> {
  readonly directory: TrustedDir;
  opts: { dialect: string; url: string };
  namespace?: string | undefined;
  /** Called with a short reason when a file is ignored; never with its content. */
  onIgnoredFile: (reason: string) => void = () => {};

  readonly #clock: Clock;

  constructor(directory: TrustedDir, clock: Clock = systemClock) {
    this.directory = directory;
    this.#clock = clock;
    this.opts = { dialect: 'keyv-file', url: directory.path };
  }

  fileName(key: string): string {
    return SafeFilenameEncoder.encode(key);
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    let text: string;
    try {
      text = readRegularFile(this.directory.at(this.fileName(key)), MAX_ENTRY_BYTES, { owner: 'self', private: true, noFollow: true }).toString('utf8');
    } catch (error) {
      if (error instanceof UnsafeFileError) {
        this.onIgnoredFile(`cache file for ${key} ${error.reason}; ignoring it`);
        return undefined;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') this.onIgnoredFile(`cache file for ${key} is a symbolic link; ignoring it`);
      else if (code !== 'ENOENT') this.onIgnoredFile(`cache file for ${key} unreadable (${code})`);
      return undefined;
    }
    const record = safeJsonParse(text);
    if (!isStoredRecord(record)) {
      this.onIgnoredFile(`cache file for ${key} is corrupt; ignoring it`);
      return undefined;
    }
    // Expired files are left alone: deleting here could race a fresh write by another
    // process. The next refresh overwrites them.
    if (typeof record.expire === 'number' && record.expire <= this.#clock.now()) return undefined;
    return record.value as StoredData<Value>;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const record: StoredRecord = { value };
    if (typeof ttl === 'number' && ttl > 0) record.expire = this.#clock.now() + ttl;
    replaceFileAtomically(this.directory, this.fileName(key), JSON.stringify(record), 0o600);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    try {
      unlinkSync(this.directory.at(this.fileName(key)));
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.onIgnoredFile(`cannot delete the cache file for ${key} (${code})`);
      return false;
    }
  }

  /** Removes the entries of this store's namespace (Keyv's clear). */
  async clear(): Promise<void> {
    const prefix = this.fileName(`${this.namespace ?? ''}:`);
    for (const name of readdirSync(this.directory.self())) {
      if (!name.startsWith(prefix)) continue;
      try {
        unlinkSync(this.directory.at(name));
      } catch {
        // gone meanwhile, or a directory: not an entry
      }
    }
  }

  on(): this {
    return this;
  }
}

function safeJsonParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isStoredRecord(value: unknown): value is StoredRecord {
  if (typeof value !== 'object' || value === null || !('value' in value)) return false;
  const expire = (value as StoredRecord).expire;
  return expire === undefined || typeof expire === 'number';
}
