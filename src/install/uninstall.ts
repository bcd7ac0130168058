// `uninstall`: puts back every file the manifest lists (files we created are removed), restarts
// the kubelet once if kubelet-facing files changed (same health watch and rollback as install),
// then removes the installer state and the directories we created when they are empty. A file
// someone changed since we wrote it is left as it is, with a warning.
import { sha256, fileChange, needsRestart, type FileChange } from './changes.ts';
import { renderChanges } from './dry-run.ts';
import type { HostFs } from './host-fs.ts';
import { describe, type RunContext } from './install.ts';
import { MANIFEST_FILE, STATE_DIR } from './paths.ts';
import { originalContent, readManifest, type Manifest } from './state.ts';
import { applyChanges, restartOrRollBack, type RestartPlan } from './transaction.ts';

export async function runUninstall(ctx: RunContext): Promise<void> {
  const { fs } = ctx;
  const manifest = readManifest(fs);
  if (manifest === undefined) {
    ctx.log('info', `nothing to uninstall: no installer state at ${MANIFEST_FILE}`);
    return;
  }
  const { changes, warnings } = restoreChanges(fs, manifest);
  const restart: RestartPlan | undefined = changes.some(needsRestart) && manifest.unit ? { unit: manifest.unit, daemonReload: changes.some((c) => c.kind === 'kubelet-flags') } : undefined;
  for (const w of warnings) ctx.log('warn', w);
  if (ctx.dryRun) {
    await ctx.out(renderChanges(changes, restart, []));
    return;
  }
  const applied = await applyChanges(fs, changes);
  if (restart) await restartOrRollBack(ctx.host, restart, applied, ctx.health, 'uninstall', (l) => ctx.log('warn', l));
  removeState(fs, manifest);
  ctx.log('info', `uninstalled: ${changes.length > 0 ? describe(changes) : 'nothing left to restore'}${restart ? `; restarted ${restart.unit}, healthy` : ''}`);
}

function restoreChanges(fs: HostFs, manifest: Manifest): { changes: FileChange[]; warnings: string[] } {
  const changes: FileChange[] = [];
  const warnings: string[] = [];
  for (const entry of [...manifest.entries].reverse()) {
    const current = fs.read(entry.path);
    const original = originalContent(fs, entry);
    if (sha256(current) !== entry.written) {
      if (sha256(current) !== sha256(original)) warnings.push(`${entry.path} changed since install; left as it is (restore it by hand if needed)`);
      continue;
    }
    const change = fileChange(entry.path, entry.kind, current, fs.stat(entry.path)?.mode, original, entry.mode ?? 0o644);
    if (change) changes.push(change);
  }
  return { changes, warnings };
}

function removeState(fs: HostFs, manifest: Manifest): void {
  for (const e of manifest.entries) if (e.contentFile) fs.remove(e.contentFile);
  fs.rmdirIfEmpty(`${STATE_DIR}/originals`);
  fs.remove(MANIFEST_FILE);
  // Deepest first; a directory that is not empty (the token cache lives next to the state) stays.
  const dirs = [...new Set([...manifest.createdDirs, STATE_DIR])].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const dir of dirs) {
    if (dir === STATE_DIR || manifest.createdDirs.includes(dir)) fs.rmdirIfEmpty(dir);
  }
}
