// A node-local registry credential ({"username","password"} in a JSON file), for registries
// without a temporary-token API (Personal Edition crpi-* instances) and without Secrets in etcd.
// Read on every call, so an edited file takes effect at once; refused unless only its owner
// (root or our own user) can read it.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ProviderError } from '../errors.ts';
import { registerSecret } from '../log/logger.ts';

const MAX_BYTES = 64 * 1024;

export interface FileCredential {
  username: string;
  password: string;
}

export function readCredentialFile(path: string): FileCredential {
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink could point the provider at a file it should not serve.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ELOOP' ? 'is a symbolic link (give the real path)' : code === 'EACCES' ? 'is not readable by the provider' : `cannot be opened (${code ?? 'error'})`;
    throw new ProviderError('config', `credential file ${path} ${why}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ProviderError('config', `credential file ${path} is not a regular file`);
    const uid = process.getuid?.() ?? 0;
    if (st.uid !== 0 && st.uid !== uid) throw new ProviderError('config', `credential file ${path} is owned by uid ${st.uid}, not root or the provider's user: chown root ${path}`);
    if ((st.mode & 0o077) !== 0) {
      throw new ProviderError('config', `credential file ${path} is accessible to group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 ${path}`);
    }
    if (st.size > MAX_BYTES) throw new ProviderError('config', `credential file ${path} is larger than ${MAX_BYTES / 1024} KiB`);
    const buffer = Buffer.alloc(st.size);
    let read = 0;
    while (read < st.size) {
      const n = readSync(fd, buffer, read, st.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return parseCredential(path, buffer.toString('utf8', 0, read));
  } finally {
    closeSync(fd);
  }
}

function parseCredential(path: string, text: string): FileCredential {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // Never quote the content: it is a password.
    throw new ProviderError('config', `credential file ${path} is not valid JSON: expected {"username": "...", "password": "..."}`);
  }
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  if (typeof d.username !== 'string' || typeof d.password !== 'string' || d.password === '') {
    throw new ProviderError('config', `credential file ${path} needs string "username" and non-empty "password" fields`);
  }
  registerSecret(d.password);
  return { username: d.username, password: d.password };
}
