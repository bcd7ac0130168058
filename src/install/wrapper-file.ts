// The provider's executable in the kubelet's bin dir: the /bin/sh wrapper (src/payload/wrapper.ts)
// that execs the installed payload through its own loader. A new wrapper is written as a
// candidate beside it, smoke-tested there, and renamed over the name: that rename is the switch
// between versions, and the kubelet never runs a version that has not passed. The kubelet
// resolves and execs it per call, so neither needs a restart. A node installed before the payload existed has the bare binary there:
// it is replaced the same way.
import { posix } from 'node:path';
import { describeError, ProviderError } from '../errors.ts';
import { renderWrapper } from '../payload/wrapper.ts';
import { bytes, fileChange, type Content, type FileChange } from './changes.ts';
import type { HostFs } from './host-fs.ts';
import { PROVIDER_NAME } from './paths.ts';

export const WRAPPER_MODE = 0o755;
const MAX_WRAPPER_BYTES = 64 * 1024; // larger: a binary, only hashed

export function wrapperPath(fs: HostFs, binDir: string): string {
  return fs.realHostPath(`${binDir}/${PROVIDER_NAME}`);
}

/**
 * Where a new wrapper is written and smoke-tested before it is renamed over the kubelet's
 * executable: beside it (same directory, same mount), hidden from the kubelet, which only ever
 * looks up `<bin dir>/<provider name>`.
 */
export function candidatePath(wrapper: string): string {
  return `${posix.dirname(wrapper)}/.${posix.basename(wrapper)}.candidate`;
}

export function wrapperText(installDir: string, loader: string): Buffer {
  try {
    return Buffer.from(renderWrapper(installDir, loader));
  } catch (error) {
    throw new ProviderError('config', `${describeError(error)}; choose another --bin-dir`);
  }
}

export function wrapperChange(fs: HostFs, binDir: string, installDir: string, loader: string): FileChange | undefined {
  const path = wrapperPath(fs, binDir);
  const st = fs.stat(path);
  let before: Content | undefined;
  if (st !== undefined) before = st.isFile && st.size <= MAX_WRAPPER_BYTES ? bytes(fs.read(path) as Buffer) : fs.digest(path);
  return fileChange(path, 'binary', before, st?.mode, bytes(wrapperText(installDir, loader)), WRAPPER_MODE);
}

/** The install directory a wrapper names, when `text` is exactly what renderWrapper writes for it. */
export function wrappedInstallDir(text: string): { installDir: string; loader: string } | undefined {
  const m = /^#!\/bin\/sh\nexec '([^']+)\/lib\/([^'/]+)' /.exec(text);
  if (!m) return undefined;
  const [, installDir, loader] = m as unknown as [string, string, string];
  try {
    return renderWrapper(installDir, loader) === text ? { installDir, loader } : undefined;
  } catch {
    return undefined;
  }
}
