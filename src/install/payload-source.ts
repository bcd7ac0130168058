// The payload to install: a directory holding the binary, its loader and libraries, and
// manifest.json (src/payload). From --payload, else the directory of the running single-file
// binary: in the image and on a node alike, that is the payload's own directory.
import { realpathSync } from 'node:fs';
import { posix } from 'node:path';
import { readRegularFile } from '../fs/regular-file.ts';
import { PAYLOAD_MANIFEST } from '../payload/layout.ts';
import { parseManifest, payloadId, type PayloadManifest } from '../payload/manifest.ts';
import { describeError, ProviderError } from '../errors.ts';

const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface PayloadSource {
  dir: string; // pod-side directory
  manifest: PayloadManifest;
  manifestBytes: Buffer; // installed next to the files, as they are
  id: string; // the versioned directory's name (payloadId)
  bytes: number; // the files' total size
}

/** --payload, else the running binary's directory when this is the single-file binary. */
export function sourcePayloadDir(explicit: string | undefined): string {
  if (explicit !== undefined) return explicit;
  const sea = process.getBuiltinModule('node:sea') as { isSea?: () => boolean } | undefined;
  // Resolved: without /proc (a chroot) Node's execPath is the name it was started by, which in
  // the image is the entrypoint symlink into the payload.
  if (sea?.isSea?.() === true) return posix.dirname(realpathSync(process.execPath));
  throw new ProviderError('config', 'not running as the single-file binary: pass --payload DIR, a payload directory (npm run build:binary writes dist/payload/linux-<arch>)');
}

export function readPayloadSource(dir: string): PayloadSource {
  const path = posix.join(dir, PAYLOAD_MANIFEST);
  let manifestBytes: Buffer;
  try {
    manifestBytes = readRegularFile(path, MAX_MANIFEST_BYTES, { owner: 'anyone', noFollow: true });
  } catch (error) {
    throw new ProviderError('config', `cannot read the payload manifest ${path} (${describeError(error)}): run the provider from its payload directory, or pass --payload DIR`);
  }
  let manifest: PayloadManifest;
  try {
    manifest = parseManifest(manifestBytes.toString('utf8'));
  } catch (error) {
    throw new ProviderError('config', `${path}: ${describeError(error)}`);
  }
  return { dir, manifest, manifestBytes, id: payloadId(manifest), bytes: manifest.files.reduce((n, f) => n + f.size, 0) };
}
