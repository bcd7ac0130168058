// manifest.json of a payload directory: what it holds, so that an installer can copy it file by
// file, streaming, checking each file's size and sha256 as it goes, and find the loader and the
// binary without guessing. Written by packaging/build/payload.ts; read by the installer.
//
// {
//   "format": "aliyun-acr-credential-provider/payload/v1",
//   "version": "0.1.0",                      the provider's version (--version prints it)
//   "arch": "amd64",                         amd64 | arm64
//   "binary": "aliyun-acr-credential-provider",
//   "loader": "ld-linux-x86-64.so.2",        its file name in lib/
//   "components": { "node": "24.21.0", "libc6": "2.36-9+deb12u14", ... },   what the files come from
//   "files": [ { "path": "lib/libc.so.6", "mode": "0755", "size": 1922136, "sha256": "…" }, ... ]
// }
// `files` lists every regular file of the directory except manifest.json, sorted by path; there
// are no symlinks; directories are implied (mode 0755).
import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { ProviderError } from '../errors.ts';
import { LOADER_NAME, PAYLOAD_BINARY, PAYLOAD_LIB_DIR } from './layout.ts';

export const MANIFEST_FORMAT = 'aliyun-acr-credential-provider/payload/v1';
export const PAYLOAD_ARCHES = ['amd64', 'arm64'] as const;

// Relative, '/'-separated, no empty, "." or ".." segment: a path that stays inside the directory.
const SEGMENT = '[A-Za-z0-9_+-][A-Za-z0-9._+-]*';
const relativePath = v.pipe(
  v.string(),
  v.regex(new RegExp(`^${SEGMENT}(/${SEGMENT})*$`), 'expected a relative path inside the payload'),
  v.check((p) => !p.split('/').includes('..'), 'expected a path without ".."'),
);

const fileSchema = v.strictObject({
  path: relativePath,
  mode: v.picklist(['0755', '0644']),
  size: v.pipe(v.number(), v.integer(), v.minValue(0)),
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256')),
});

const manifestSchema = v.strictObject({
  format: v.literal(MANIFEST_FORMAT),
  version: v.pipe(v.string(), v.regex(/^[0-9A-Za-z.+-]{1,64}$/, 'expected a version')),
  arch: v.picklist(PAYLOAD_ARCHES),
  binary: v.literal(PAYLOAD_BINARY),
  loader: v.pipe(v.string(), v.regex(LOADER_NAME, 'expected the loader file name, ld-linux-<arch>.so.<n>')),
  components: v.record(v.pipe(v.string(), v.regex(/^[a-z0-9.+-]{1,64}$/)), v.pipe(v.string(), v.regex(/^[0-9A-Za-z.+:~-]{1,64}$/))),
  files: v.array(fileSchema),
});

export type PayloadFile = v.InferOutput<typeof fileSchema>;
export type PayloadManifest = v.InferOutput<typeof manifestSchema>;
export type PayloadArch = PayloadManifest['arch'];

/** Parses and checks a manifest; throws ProviderError naming the first problem. */
export function parseManifest(text: string): PayloadManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProviderError('install', `the payload manifest is not JSON: ${(error as Error).message}`);
  }
  const parsed = v.safeParse(manifestSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0]!;
    const at = v.getDotPath(issue);
    throw new ProviderError('install', `the payload manifest is invalid${at ? ` at ${at}` : ''}: ${issue.message}`);
  }
  checkConsistency(parsed.output);
  return parsed.output;
}

function checkConsistency(m: PayloadManifest): void {
  const paths = m.files.map((f) => f.path);
  for (let i = 1; i < paths.length; i++) {
    if (paths[i - 1]! >= paths[i]!) throw new ProviderError('install', `the payload manifest's files are not sorted and unique at "${paths[i]}"`);
  }
  const set = new Set(paths);
  // A file may not also be a directory of another (a/b and a/b/c).
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      if (set.has(parts.slice(0, i).join('/'))) throw new ProviderError('install', `the payload manifest lists "${parts.slice(0, i).join('/')}" both as a file and as a directory`);
    }
  }
  for (const required of [m.binary, `${PAYLOAD_LIB_DIR}/${m.loader}`]) {
    const file = m.files.find((f) => f.path === required);
    if (!file) throw new ProviderError('install', `the payload manifest does not list ${required}`);
    if (file.mode !== '0755') throw new ProviderError('install', `the payload manifest gives ${required} mode ${file.mode}, not 0755`);
  }
}

/** The manifest as the build writes it (stable: same manifest, same bytes). */
export function encodeManifest(m: PayloadManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/**
 * A name for an installed copy of this payload: the version and a digest of every file's path,
 * mode and content. Two payloads with the same id hold the same bytes, so an installer can keep
 * one directory per id and switch between them.
 */
export function payloadId(m: PayloadManifest): string {
  const digest = createHash('sha256');
  for (const f of m.files) digest.update(`${f.path}\0${f.mode}\0${f.size}\0${f.sha256}\n`);
  return `${m.version}-${m.arch}-${digest.digest('hex').slice(0, 16)}`;
}

/** The file mode as a number (0o755 or 0o644). */
export function fileMode(f: PayloadFile): number {
  return Number.parseInt(f.mode, 8);
}
