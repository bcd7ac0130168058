// Payload directories for installer tests, in the real format (manifest.json with every file's
// mode, size and sha256, src/payload): stand-ins for the binary and glibc's loader written for
// /bin/sh, so that a host tree holding only a static busybox as /bin/sh runs them with chroot as
// the kubelet would run the real ones. The stand-in loader takes the wrapper's options and fails
// as ld.so does when a library is missing from its --library-path; the stand-in provider answers
// --version and a kubelet request for an image that is not ACR (the empty response, any apiVersion).
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeManifest, MANIFEST_FORMAT, type PayloadArch, type PayloadManifest } from '../../src/payload/manifest.ts';
import { tempDir } from './helpers.ts';

export const FAKE_LOADER: Record<PayloadArch, string> = { amd64: 'ld-linux-x86-64.so.2', arm64: 'ld-linux-aarch64.so.1' };

/** The architecture of this machine's payloads (and of the static shell host trees get). */
export const MACHINE_ARCH: PayloadArch = process.arch === 'arm64' ? 'arm64' : 'amd64';

const LOADER = `#!/bin/sh
# Stand-in for glibc's loader, started by the wrapper: its options, then the program.
lib=
while :; do
  case "$1" in
    --inhibit-cache) shift ;;
    --library-path) lib=$2; shift 2 ;;
    --argv0) shift 2 ;;
    *) break ;;
  esac
done
for need in libc.so.6; do
  if [ ! -e "$lib/$need" ]; then
    echo "$1: error while loading shared libraries: $need: cannot open shared object file: No such file or directory" >&2
    exit 127
  fi
done
exec "$@"
`;

function provider(version: string, build: number): string {
  return `#!/bin/sh
# Stand-in provider, build ${build}: --version, and the answer to a request for an image that is not ACR.
if [ "$1" = --version ]; then echo '${version}'; exit 0; fi
req=
while IFS= read -r line || [ -n "$line" ]; do req="$req$line"; done
v=\${req#*'"apiVersion":"'}
v=\${v%%'"'*}
printf '{"kind":"CredentialProviderResponse","apiVersion":"%s","cacheKeyType":"Image","cacheDuration":"5m0s"}\\n' "$v"
`;
}

export interface FakePayloadOptions {
  version?: string;
  /** Makes a different payload of the same version (an upgrade). */
  build?: number;
  arch?: PayloadArch;
  /** The provider's script instead of the stand-in (e.g. one that answers wrongly). */
  providerScript?: string;
  /** Extra bytes appended to the binary (a large payload). */
  binaryMiB?: number;
  /** Files of the payload the directory (and its manifest) leave out, e.g. lib/libc.so.6. */
  omit?: string[];
}

export function fakePayload(options: FakePayloadOptions = {}): string {
  const version = options.version ?? '0.1.0';
  const arch = options.arch ?? MACHINE_ARCH;
  const dir = tempDir('acr-payload-');
  const files: Record<string, { content: Buffer; mode: '0755' | '0644' }> = {
    'aliyun-acr-credential-provider': { content: Buffer.from(options.providerScript ?? provider(version, options.build ?? 1)), mode: '0755' },
    [`lib/${FAKE_LOADER[arch]}`]: { content: Buffer.from(LOADER), mode: '0755' },
    'lib/libc.so.6': { content: Buffer.from('stand-in libc\n'), mode: '0755' },
    'doc/copyright': { content: Buffer.from('stand-in licences\n'), mode: '0644' },
  };
  if (options.binaryMiB) {
    const binary = files['aliyun-acr-credential-provider']!;
    binary.content = Buffer.concat([binary.content, Buffer.from('exit 0\n'), Buffer.alloc(options.binaryMiB * 1024 * 1024, '#')]);
  }
  const listed = Object.keys(files).sort().filter((p) => !options.omit?.includes(p));
  const manifest: PayloadManifest = {
    format: MANIFEST_FORMAT,
    version,
    arch,
    binary: 'aliyun-acr-credential-provider',
    loader: FAKE_LOADER[arch],
    components: { node: '24.0.0' },
    files: listed.map((path) => {
      const f = files[path]!;
      return { path, mode: f.mode, size: f.content.length, sha256: createHash('sha256').update(f.content).digest('hex') };
    }),
  };
  for (const path of listed) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, files[path]!.content);
    chmodSync(full, Number.parseInt(files[path]!.mode, 8));
  }
  writeFileSync(join(dir, 'manifest.json'), encodeManifest(manifest));
  return dir;
}

export function manifestOf(payload: string): PayloadManifest {
  return JSON.parse(readFileSync(join(payload, 'manifest.json'), 'utf8')) as PayloadManifest;
}
