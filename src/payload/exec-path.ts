// Started by the wrapper (wrapper.ts), the kernel executes the payload's dynamic loader, which then
// loads <dir>/aliyun-acr-credential-provider. Node takes process.execPath from /proc/self/exe, so it
// names <dir>/lib/ld-linux-*.so.*: code that asks which file the provider is (the installer
// copies process.execPath) would get the loader. What else changes: process.argv[0] is the loader
// too (nothing of ours reads it); argv0 is what the wrapper passes as --argv0 (the name the kubelet
// or a docker client used), so the docker-credential-helper name still selects that mode; the SEA
// is still detected (node:sea isSea()), its blob being found in the main program's notes.
//
// This puts the payload's binary back in process.execPath, lazily: the kubelet's hit path never
// reads it, so a start through the loader costs one string test and no system call.
import { LOADER_NAME, PAYLOAD_BINARY, PAYLOAD_LIB_DIR } from './layout.ts';

/** <dir>/<binary> for a payload loader at <dir>/lib/<loader>; undefined for any other path. */
export function payloadBinaryOf(loaderPath: string): string | undefined {
  const slash = loaderPath.lastIndexOf('/');
  if (!LOADER_NAME.test(loaderPath.slice(slash + 1))) return undefined;
  const libDir = loaderPath.slice(0, slash);
  const parent = libDir.lastIndexOf('/');
  if (parent < 0 || libDir.slice(parent + 1) !== PAYLOAD_LIB_DIR) return undefined;
  return `${libDir.slice(0, parent)}/${PAYLOAD_BINARY}`;
}

/** Makes process.execPath the payload's binary when this process was started through its loader. */
export function execPathBehindLoader(): void {
  const loaderPath = process.execPath;
  const binary = payloadBinaryOf(loaderPath);
  if (binary === undefined) return;
  let value: string | undefined;
  Object.defineProperty(process, 'execPath', {
    configurable: true,
    enumerable: true,
    // Only if the loader really runs that file: it is mapped into this process.
    get: () => (value ??= isMapped(binary) ? binary : loaderPath),
    set: (v: string) => {
      value = v;
    },
  });
}

function isMapped(file: string): boolean {
  try {
    const maps = process.getBuiltinModule('node:fs').readFileSync('/proc/self/maps', 'utf8');
    return maps.split('\n').some((line) => line.endsWith(` ${file}`));
  } catch {
    return false;
  }
}
