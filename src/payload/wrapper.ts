// The executable the kubelet runs from its bin dir: a /bin/sh script that execs the installed
// provider through the payload's own loader, so nothing of the host is used but /bin/sh.
//   --inhibit-cache     never read the host's /etc/ld.so.cache (its libraries belong to another libc)
//   --library-path      our lib/ only; also overrides any LD_LIBRARY_PATH the kubelet passes on
//   --argv0 "$0"        the provider sees the name it was started by (docker-credential-aliyun-acr)
// `exec` keeps one process: the kubelet's pid is the provider's, so stdin, stdout, the exit code
// and signals are the provider's own. The script is one short line so that sh reads it in one go.
import { PAYLOAD_BINARY, PAYLOAD_LIB_DIR, LOADER_NAME } from './layout.ts';
import { ProviderError } from '../errors.ts';

/**
 * The wrapper for a payload installed in `installDir` (absolute, on the host as the kubelet sees
 * it) whose loader is `lib/<loader>`. Pure: the same inputs give the same bytes, so an installer
 * can compare it with what is on disk.
 */
export function renderWrapper(installDir: string, loader: string): string {
  const [ld, inhibit, libraryPath, lib, binary] = loaderCommand(installDir, loader) as [string, string, string, string, string];
  return `#!/bin/sh\nexec ${shellQuote(ld)} ${inhibit} ${libraryPath} ${shellQuote(lib)} --argv0 "$0" ${shellQuote(binary)} "$@"\n`;
}

/**
 * The argv that runs the binary of the payload in `installDir` through its own loader, as the
 * wrapper does (without --argv0): append the provider's arguments. For callers that exec
 * without a shell (the installer's dead-man timer, dead-man.ts).
 */
export function loaderCommand(installDir: string, loader: string): string[] {
  const dir = checkInstallDir(installDir);
  if (!LOADER_NAME.test(loader)) throw new ProviderError('install', `"${loader}" is not a dynamic loader's file name (expected ld-linux-<arch>.so.<n>)`);
  const lib = `${dir}/${PAYLOAD_LIB_DIR}`;
  return [`${lib}/${loader}`, '--inhibit-cache', '--library-path', lib, `${dir}/${PAYLOAD_BINARY}`];
}

/** An absolute, normalised path without control characters (one readable line in the script). */
function checkInstallDir(path: string): string {
  if (!path.startsWith('/')) throw new ProviderError('install', `the install directory must be an absolute path, not "${path}"`);
  if (/[\x00-\x1f\x7f]/.test(path)) throw new ProviderError('install', 'the install directory must not contain control characters');
  const trimmed = path.replace(/\/+$/, '');
  const segments = trimmed.split('/').slice(1);
  if (trimmed === '' || segments.some((s) => s === '' || s === '.' || s === '..')) throw new ProviderError('install', `the install directory must be a normalised path below /, not "${path}"`);
  // ld.so splits --library-path at ':' and ';' and expands $ORIGIN, $LIB and $PLATFORM in it.
  if (/[:;$]/.test(trimmed)) throw new ProviderError('install', `the install directory must not contain ":", ";" or "$" (the loader would read its library path differently): "${path}"`);
  return trimmed;
}

/** POSIX single quotes: everything literal; a quote becomes '\''. */
function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
