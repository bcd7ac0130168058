// The Keyv storage adapter: keyv-file's separated-file layout (one file per key, its file
// naming, its delete/clear/key listing), hardened where its source falls short:
// - keyv-file writes with fs.writeFile in place, so a crash or a concurrent reader can see a
//   torn file: we write a temp file, fsync and rename (write-file-atomic): old or new, never half;
// - it writes with the default umask: we write 0600 (and main() sets umask 077);
// - its reads log non-ENOENT errors with console.error (a stack trace on stderr), and its async
//   read starts libuv's thread pool on the kubelet's hottest path: we read synchronously and
//   treat anything unreadable, torn or corrupt as absent, so it is refetched and rewritten.
// - its deletes log failures the same way: ours ignore a missing file and report the rest.
// keyv-file itself (and fs/promises, which it loads) is required only to clear the store, so a
// cache hit never pays for loading it.
import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type { KeyvFile } from 'keyv-file';
import { SafeFilenameEncoder } from 'keyv-file/lib/safe-encoder.js';

interface StoredRecord {
  value: unknown;
  expire?: number;
}

export class HardenedFileStore implements Pick<KeyvStoreAdapter, 'get' | 'set' | 'delete' | 'clear' | 'on'> {
  readonly directory: string;
  opts: { dialect: string; url: string };
  namespace?: string | undefined;
  /** Called with a short reason when a file is ignored; never with its content. */
  onIgnoredFile: (reason: string) => void = () => {};
  private keyvFile: KeyvFile | undefined;

  constructor(directory: string) {
    this.directory = directory;
    this.opts = { dialect: 'keyv-file', url: directory };
  }

  pathFor(key: string): string {
    return join(this.directory, SafeFilenameEncoder.encode(key));
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    let text: string;
    try {
      text = readFileSync(this.pathFor(key), 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.onIgnoredFile(`cache file for ${key} unreadable (${code})`);
      return undefined;
    }
    const record = safeJsonParse(text);
    if (!isStoredRecord(record)) {
      this.onIgnoredFile(`cache file for ${key} is corrupt; ignoring it`);
      return undefined;
    }
    // Expired files are left alone: deleting here could race a fresh write by another
    // process. The next refresh overwrites them.
    if (typeof record.expire === 'number' && record.expire <= Date.now()) return undefined;
    return record.value as StoredData<Value>;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const record: StoredRecord = { value };
    if (typeof ttl === 'number' && ttl > 0) record.expire = Date.now() + ttl;
    const { default: writeFileAtomic } = await import('write-file-atomic');
    await writeFileAtomic(this.pathFor(key), JSON.stringify(record), { mode: 0o600, fsync: true });
    return true;
  }

  async delete(key: string): Promise<boolean> {
    try {
      unlinkSync(this.pathFor(key));
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.onIgnoredFile(`cannot delete the cache file for ${key} (${code})`);
      return false;
    }
  }

  async clear(): Promise<void> {
    await (await this.files()).clear();
  }

  on(): this {
    return this;
  }

  private async files(): Promise<KeyvFile> {
    if (!this.keyvFile) {
      const { KeyvFile } = await import('keyv-file');
      this.keyvFile = new KeyvFile({ filename: this.directory, separatedFile: true, writeDelay: 0, serialize: JSON.stringify, deserialize: safeJsonParse });
    }
    return this.keyvFile;
  }
}

function safeJsonParse(text: string | Buffer): unknown {
  try {
    return JSON.parse(text.toString());
  } catch {
    return undefined;
  }
}

function isStoredRecord(value: unknown): value is StoredRecord {
  if (typeof value !== 'object' || value === null || !('value' in value)) return false;
  const expire = (value as StoredRecord).expire;
  return expire === undefined || typeof expire === 'number';
}
