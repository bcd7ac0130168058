// What uninstall changes: exactly what install added, taken out of whatever the files hold now.
// A file that still holds what install last wrote gets its original back, byte for byte. A file
// changed since is edited instead: our flags removed from the flags file, our entry from the
// CredentialProviderConfig; a file is deleted only when install created it and nothing left
// needs it (flags stay while the config they name still lists other providers). The result is
// then read as the kubelet would: if it would still be pointed at a config or plugin that
// uninstall removes, nothing changes and the error says which flag to take out, and where.
import { bytes, fileChange, needsRestart, optionalBytes, sha256, type Content, type FileChange } from './changes.ts';
import { parseConfigText, removeEntry } from './credential-config/merge.ts';
import { providerNames } from './credential-config/plan.ts';
import { ProviderError } from '../errors.ts';
import type { HostFs } from './host-fs.ts';
import type { RestartPlan } from './journal.ts';
import { flagValue } from './kubelet/argv.ts';
import { detectLayout } from './layouts/detect.ts';
import type { Layout } from './layouts/types.ts';
import { FLAG_BIN_DIR, FLAG_CONFIG, RANCHER_BIN_DIR, RANCHER_KUBELET_CONFIG } from './paths.ts';
import { PlannedFs } from './planned-fs.ts';
import { manifestChange, type FileRecord, type Manifest } from './state.ts';
import { storedBytes, type Stored } from './stored.ts';
import { removeWords } from './systemd/env-file.ts';
import { readService } from './systemd/unit.ts';
import { WRAPPER_MODE } from './wrapper-file.ts';

export interface UninstallPlan {
  changes: FileChange[];
  payloadDirs: string[]; // removed once the rest is committed (the kubelet may still run them until then)
  restart: RestartPlan | undefined;
  warnings: string[];
}

export function planUninstall(fs: HostFs, manifest: Manifest): UninstallPlan {
  const changes: FileChange[] = [];
  const warnings: string[] = [];
  const push = (c: FileChange | undefined) => c && changes.push(c);
  const records = (kind: FileRecord['kind']) => manifest.files.filter((f) => f.kind === kind);

  for (const r of records('kubelet-config')) push(kubeletConfigChange(fs, r));
  const stillUsed = manifest.detect.kubeletConfigFile !== undefined && providersAt(new PlannedFs(fs, changes), manifest.detect.kubeletConfigFile).length > 0;
  for (const r of records('kubelet-flags')) {
    if (stillUsed && (r.words ?? []).length > 0) warnings.push(`kept ${(r.words ?? []).join(' ')} in ${r.path}: ${manifest.detect.kubeletConfigFile} still lists other providers`);
    else push(flagsChange(fs, r));
  }
  for (const r of records('binary')) push(ifStillOurs(fs, r, fs.digest(r.path), original(fs, r.original), r.original?.mode ?? WRAPPER_MODE, warnings));
  for (const r of records('provider-config')) push(providerConfigChange(fs, r, warnings));
  changes.push(manifestChange(fs, undefined));

  checkKubeletAfter(fs, manifest, changes);
  const kubeletFacing = changes.filter(needsRestart);
  if (kubeletFacing.length > 0 && manifest.unit === undefined) warnings.push('the kubelet config changes but no unit is known to restart: restart the kubelet yourself');
  const restart = kubeletFacing.length > 0 && manifest.unit !== undefined ? { unit: manifest.unit, daemonReload: kubeletFacing.some((c) => c.kind === 'kubelet-flags') } : undefined;
  return { changes, payloadDirs: manifest.payloads ?? [], restart, warnings };
}

/** Our entry out of the config; the file goes when install created it and nothing else is left in it. */
function kubeletConfigChange(fs: HostFs, r: FileRecord): FileChange | undefined {
  const current = fs.read(r.path);
  if (current === undefined) return undefined;
  const mode = fs.stat(r.path)?.mode;
  if (sha256(current) === r.written) return fileChange(r.path, r.kind, bytes(current), mode, original(fs, r.original), r.original?.mode ?? 0o644);
  const { text, remaining } = removeEntry(current.toString('utf8'), r.path);
  const after = remaining === 0 && r.original === null ? undefined : bytes(Buffer.from(text));
  return fileChange(r.path, r.kind, bytes(current), mode, after, mode ?? 0o644);
}

/** Our flags out of the flags file. */
function flagsChange(fs: HostFs, r: FileRecord): FileChange | undefined {
  const current = fs.read(r.path);
  if (current === undefined) return undefined;
  const mode = fs.stat(r.path)?.mode;
  if (sha256(current) === r.written) return fileChange(r.path, r.kind, bytes(current), mode, original(fs, r.original), r.original?.mode ?? 0o644);
  return fileChange(r.path, r.kind, bytes(current), mode, bytes(Buffer.from(removeWords(current.toString('utf8'), r.words ?? []))), mode ?? 0o644);
}

/** The node's provider config is ours alone (sync-config rewrites it): it goes if install created it. */
function providerConfigChange(fs: HostFs, r: FileRecord, warnings: string[]): FileChange | undefined {
  const current = optionalBytes(fs.read(r.path));
  if (r.original === null) return fileChange(r.path, r.kind, current, fs.stat(r.path)?.mode, undefined, 0o644);
  return ifStillOurs(fs, r, current, original(fs, r.original), r.original.mode, warnings);
}

/** Back to the original while the file holds what we wrote; someone else's replacement stays. */
function ifStillOurs(fs: HostFs, r: FileRecord, current: Content | undefined, after: Content | undefined, mode: number, warnings: string[]): FileChange | undefined {
  if (current === undefined) return undefined;
  if (current.sha256 !== r.written) {
    warnings.push(`${r.path} was replaced since install; left as it is`);
    return undefined;
  }
  return fileChange(r.path, r.kind, current, fs.stat(r.path)?.mode, after, mode);
}

function original(fs: HostFs, stored: Stored | null): Content | undefined {
  if (stored === null) return undefined;
  if (stored.inline !== undefined) return bytes(storedBytes(fs, stored) as Buffer);
  return { sha256: stored.sha256, size: stored.size, source: fs.resolve(stored.backup as string) };
}

/** Provider names the kubelet would load from a config file or directory. */
function providersAt(fs: HostFs, configPath: string): string[] {
  const st = fs.stat(configPath);
  if (st === undefined) return [];
  const files = st.isDirectory ? fs.list(configPath).filter((n) => /\.(json|ya?ml)$/.test(n)).map((n) => `${configPath}/${n}`) : [configPath];
  return providerNames(files.map((f) => parseConfigText(fs.readText(f) ?? '', f)));
}

/** Refuses a plan after which the kubelet would be pointed at a config or plugin that is gone. */
function checkKubeletAfter(fs: HostFs, manifest: Manifest, changes: FileChange[]): void {
  const view = new PlannedFs(fs, changes);
  let layout: Layout;
  try {
    layout = detectLayout(view, manifest.detect);
  } catch {
    return; // no kubelet command line to check (a manual layout, or its unit is gone)
  }
  const rancher = layout.automaticWiring && view.exists(RANCHER_KUBELET_CONFIG) && view.exists(RANCHER_BIN_DIR);
  const config = flagValue(layout.argv, FLAG_CONFIG) ?? (rancher ? RANCHER_KUBELET_CONFIG : undefined);
  if (config === undefined) return;
  const binDir = flagValue(layout.argv, FLAG_BIN_DIR) ?? (rancher ? RANCHER_BIN_DIR : undefined);
  const problem = kubeletProblem(view, config, binDir);
  if (problem === undefined) return;
  const model = layout.unit ? readService(view, layout.unit) : undefined;
  const from = [...(model?.files ?? []), ...(model?.envFiles.map((e) => e.path) ?? [])].filter((f) => view.readText(f)?.includes(FLAG_CONFIG)).pop();
  throw new ProviderError('install', `after uninstall the kubelet would still start with ${FLAG_CONFIG}=${config}${from ? ` (from ${from})` : ''}, but ${problem}; take that flag out there, then re-run uninstall; nothing was changed`);
}

function kubeletProblem(view: HostFs, config: string, binDir: string | undefined): string | undefined {
  if (!view.exists(config)) return `${config} would be gone`;
  let names: string[];
  try {
    names = providersAt(view, config);
  } catch (error) {
    return (error as Error).message;
  }
  if (names.length === 0) return `${config} would list no provider, which the kubelet refuses`;
  if (binDir === undefined) return `no ${FLAG_BIN_DIR} would be set`;
  const missing = names.find((n) => ((view.stat(`${binDir}/${n}`)?.mode ?? 0) & 0o111) === 0);
  return missing === undefined ? undefined : `${binDir}/${missing} would be gone`;
}
