// A node-local registry credential ({"username","password"} in a JSON file), for registries
// without a temporary-token API (Personal Edition crpi-* instances) and without Secrets in etcd.
// Read on every call, so an edited file takes effect at once; refused unless only its owner
// (root or our own user) can read it.
import { ProviderError } from '../errors.ts';
import { readRegularFile, UnsafeFileError } from '../fs/regular-file.ts';
import { registerSecret } from '../log/logger.ts';

const MAX_BYTES = 64 * 1024;

export interface FileCredential {
  username: string;
  password: string;
}

export function readCredentialFile(path: string): FileCredential {
  let text: string;
  try {
    // O_NOFOLLOW: a symlink could point the provider at a file it should not serve.
    text = readRegularFile(path, MAX_BYTES, { owner: 'root-or-self', private: true, noFollow: true }).toString('utf8');
  } catch (error) {
    if (error instanceof UnsafeFileError) throw new ProviderError('config', `credential file ${path} ${error.reason}${fixFor(error.reason, path)}`);
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ELOOP' ? 'is a symbolic link (give the real path)' : code === 'EACCES' ? 'is not readable by the provider' : `cannot be opened (${code ?? 'error'})`;
    throw new ProviderError('config', `credential file ${path} ${why}`);
  }
  return parseCredential(path, text);
}

/** What to run about a refused file, when there is a command for it. */
function fixFor(reason: string, path: string): string {
  if (reason.startsWith('is owned by')) return `: chown root ${path}`;
  if (reason.startsWith('is accessible to')) return `: chmod 600 ${path}`;
  return '';
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
