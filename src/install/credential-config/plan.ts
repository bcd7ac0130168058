// Plans the kubelet CredentialProviderConfig change: our file in a config directory (1.34+),
// our entry merged into an existing file, or a new file. Whatever the kubelet would read
// afterwards is validated, including the plugin binaries it would look up.
import type { FileChange } from '../changes.ts';
import { bytes, fileChange, optionalBytes } from '../changes.ts';
import { ProviderError } from '../../errors.ts';
import type { HostFs } from '../host-fs.ts';
import { apiChoice, supportsConfigDirectory } from '../kubelet/version.ts';
import { DIRECTORY_CONFIG_FILE } from '../paths.ts';
import type { ProviderEntry } from './entry.ts';
import { mergeEntry, parseConfigText, renderNewConfig } from './merge.ts';
import { validateCredentialProviderConfig, type ValidationContext } from './validate.ts';

export interface KubeletConfigPlan {
  change: FileChange | undefined;
  /** Every document the kubelet would load afterwards, for the binary check. */
  documents: unknown[];
}

export function planKubeletConfig(fs: HostFs, configPath: string, entry: ProviderEntry, ctx: ValidationContext): KubeletConfigPlan {
  const path = fs.realHostPath(configPath);
  const st = fs.stat(path);
  if (st?.isDirectory) return planDirectory(fs, path, entry, ctx);
  const before = fs.read(path);
  const text = before === undefined ? renderNewConfig(entry, apiChoice(ctx.version).configApiVersion, path.endsWith('.json')) : mergeEntry(before.toString('utf8'), entry, path);
  const doc = parseConfigText(text, path);
  check(validateCredentialProviderConfig(doc, ctx), path);
  return { change: fileChange(path, 'kubelet-config', optionalBytes(before), st?.mode, bytes(Buffer.from(text)), st?.mode ?? 0o644), documents: [doc] };
}

function planDirectory(fs: HostFs, dir: string, entry: ProviderEntry, ctx: ValidationContext): KubeletConfigPlan {
  if (!supportsConfigDirectory(ctx.version)) {
    throw new ProviderError('config', `the kubelet's --image-credential-provider-config ${dir} is a directory, which kubelet ${ctx.version.text} does not support (1.34+); point the flag at a file`);
  }
  const ours = `${dir}/${DIRECTORY_CONFIG_FILE}`;
  const before = fs.read(ours);
  const text = before === undefined ? renderNewConfig(entry, apiChoice(ctx.version).configApiVersion) : mergeEntry(before.toString('utf8'), entry, ours);
  // The kubelet reads *.json, *.yaml and *.yml regular files, sorted by path, and rejects a
  // provider name seen twice across them.
  const names = new Map<string, number>();
  const documents: unknown[] = [];
  const files = new Set([...fs.list(dir).filter((n) => /\.(json|ya?ml)$/.test(n)).map((n) => `${dir}/${n}`), ours]);
  for (const file of [...files].sort()) {
    if (file !== ours && !fs.stat(file)?.isFile) continue;
    const content = file === ours ? text : (fs.readText(file) ?? '');
    const doc = parseConfigText(content, file);
    check(validateCredentialProviderConfig(doc, ctx, names), file);
    documents.push(doc);
  }
  return { change: fileChange(ours, 'kubelet-config', optionalBytes(before), fs.stat(ours)?.mode, bytes(Buffer.from(text)), fs.stat(ours)?.mode ?? 0o644), documents };
}

function check(problems: string[], path: string): void {
  if (problems.length > 0) throw new ProviderError('install', `the kubelet would reject ${path}: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}; nothing was changed`);
}

/** Provider names the kubelet will look up in the bin dir. */
export function providerNames(documents: unknown[]): string[] {
  const names: string[] = [];
  for (const doc of documents) {
    const providers = (doc as { providers?: unknown }).providers;
    if (!Array.isArray(providers)) continue;
    for (const p of providers) {
      const name = (p as { name?: unknown }).name;
      if (typeof name === 'string') names.push(name);
    }
  }
  return names;
}
