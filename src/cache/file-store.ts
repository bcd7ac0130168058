// keyv-file's separated-file mode (one file per key), hardened where its source falls short:
// - it writes with fs.writeFile in place, so a crash or a concurrent reader can see a torn file:
//   we write a temp file, fsync and rename (write-file-atomic), so readers see old or new;
// - it writes with the default umask: we write 0600 (and main() sets umask 077);
// - its reads log non-ENOENT errors with console.error (a stack trace on stderr), and its async
//   read starts libuv's thread pool on the kubelet's hottest path: we read synchronously and
//   treat anything unreadable, torn or corrupt as absent, so it is refetched and rewritten.
// Deletes, key listing and expiry sweeps stay keyv-file's own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyvFile } from 'keyv-file';
import { SafeFilenameEncoder } from 'keyv-file/lib/safe-encoder.js';
import writeFileAtomic from 'write-file-atomic';

interface StoredRecord {
  value: unknown;
  expire?: number;
}

export class HardenedFileStore extends KeyvFile {
  readonly directory: string;
  /** Called with a short reason when a file is ignored; never with its content. */
  onIgnoredFile: (reason: string) => void = () => {};

  constructor(directory: string) {
    super({ filename: directory, separatedFile: true, writeDelay: 0, serialize: JSON.stringify, deserialize: safeJsonParse });
    this.directory = directory;
  }

  pathFor(key: string): string {
    return join(this.directory, SafeFilenameEncoder.encode(key));
  }

  override async get<Value>(key: string): Promise<Value | undefined> {
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
    if (typeof record.expire === 'number' && record.expire <= Date.now()) {
      this.delete(key).catch(() => undefined);
      return undefined;
    }
    return record.value as Value;
  }

  override async set(key: string, value: unknown, ttl?: number): Promise<void> {
    const record: StoredRecord = { value };
    if (typeof ttl === 'number' && ttl > 0) record.expire = Date.now() + ttl;
    await writeFileAtomic(this.pathFor(key), JSON.stringify(record), { mode: 0o600, fsync: true });
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
