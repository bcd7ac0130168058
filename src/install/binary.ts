// The provider executable in the kubelet's plugin directory. The kubelet resolves and execs it
// per call, so replacing it needs no restart; an identical file is left alone. The ~127 MB
// binary is only ever hashed and copied by streaming (HostFs.copyIn), never read into memory.
import { fileChange, type FileChange } from './changes.ts';
import { ProviderError } from '../errors.ts';
import { digestFile, type HostFs } from './host-fs.ts';
import { PROVIDER_NAME } from './paths.ts';

export const BINARY_MODE = 0o755;

/** The executable to copy: --binary, else this process when it is the single-file binary. */
export function sourceBinary(explicit: string | undefined): string {
  if (explicit !== undefined) return explicit;
  const sea = process.getBuiltinModule('node:sea') as { isSea?: () => boolean } | undefined;
  if (sea?.isSea?.() === true) return process.execPath;
  throw new ProviderError('config', 'not running as the single-file binary: pass --binary PATH with the provider executable to install');
}

export function binaryPath(fs: HostFs, binDir: string): string {
  return fs.realHostPath(`${binDir}/${PROVIDER_NAME}`);
}

export function binaryChange(fs: HostFs, binDir: string, source: string): FileChange | undefined {
  let digest;
  try {
    digest = digestFile(source);
  } catch {
    throw new ProviderError('config', `cannot read the provider binary ${source}; pass --binary with a readable file`);
  }
  const path = binaryPath(fs, binDir);
  return fileChange(path, 'binary', fs.digest(path), fs.stat(path)?.mode, { ...digest, source }, BINARY_MODE);
}
