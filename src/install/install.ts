// `install`: plan, then (unless --dry-run) record originals, write atomically, restart the
// kubelet once if it must, and roll everything back if it does not come back healthy.
import type { FileChange } from './changes.ts';
import { renderChanges } from './dry-run.ts';
import type { HostFs } from './host-fs.ts';
import type { HostSystem } from './host-system.ts';
import { MANIFEST_FILE, STATE_DIR } from './paths.ts';
import { planInstall, type InstallInputs } from './plan.ts';
import { emptyManifest, readManifest, recordChanges, writeManifest } from './state.ts';
import { applyChanges, restartOrRollBack, type Applied, type HealthOptions } from './transaction.ts';

export interface RunContext {
  fs: HostFs;
  host: HostSystem;
  health: HealthOptions;
  dryRun: boolean;
  log: (level: 'info' | 'warn', line: string) => void;
  out: (text: string) => Promise<void>;
}

export async function runInstall(ctx: RunContext, inputs: InstallInputs): Promise<void> {
  const { fs } = ctx;
  const plan = await planInstall(fs, ctx.host, inputs);
  for (const w of plan.warnings) ctx.log('warn', w);
  ctx.log('info', `layout ${plan.layout.name}, kubelet ${plan.version.text}, bin dir ${plan.binDir}, kubelet config ${plan.configPath}`);
  if (ctx.dryRun) {
    await ctx.out(renderChanges(plan.changes, plan.restart, []));
    return;
  }
  if (plan.changes.length === 0) {
    ctx.log('info', 'already installed: nothing to change, no restart');
    return;
  }
  const applied = await applyRecorded(fs, plan.changes, plan.layout.name, plan.layout.unit);
  if (plan.restart) await restartOrRollBack(ctx.host, plan.restart, applied, ctx.health, 'install', (l) => ctx.log('warn', l));
  ctx.log('info', `installed: ${describe(plan.changes)}${plan.restart ? `; restarted ${plan.restart.unit}, healthy` : '; no restart needed'}`);
}

/**
 * Records the originals in the manifest before touching anything (a crash leaves a manifest
 * uninstall can use), then writes. Rolling back also restores the previous manifest.
 */
async function applyRecorded(fs: HostFs, changes: FileChange[], layout: string, unit: string | undefined): Promise<Applied> {
  const previous = fs.read(MANIFEST_FILE);
  const manifest = readManifest(fs) ?? emptyManifest(layout, unit);
  const created = fs.mkdirs(STATE_DIR);
  for (const c of changes) if (c.after !== undefined) created.push(...fs.mkdirs(fs.parentOf(c.path)));
  const next = await recordChanges(fs, { ...manifest, layout, ...(unit ? { unit } : {}) }, changes);
  next.createdDirs = [...new Set([...manifest.createdDirs, ...created])];
  await writeManifest(fs, next);
  const sideFiles = next.entries.map((e) => e.contentFile).filter((f): f is string => f !== undefined && !manifest.entries.some((m) => m.contentFile === f));
  const undoState = async () => {
    for (const f of sideFiles) fs.remove(f);
    fs.rmdirIfEmpty(`${STATE_DIR}/originals`);
    if (previous === undefined) fs.remove(MANIFEST_FILE);
    else await fs.write(MANIFEST_FILE, previous, 0o600);
    for (const dir of [...created].reverse()) fs.rmdirIfEmpty(dir);
  };
  let applied: Applied;
  try {
    applied = await applyChanges(fs, changes);
  } catch (error) {
    await undoState();
    throw error;
  }
  return {
    createdDirs: created,
    rollback: async () => {
      await applied.rollback();
      await undoState();
    },
  };
}

export function describe(changes: FileChange[]): string {
  return changes.map((c) => `${c.after === undefined ? 'removed' : c.before === undefined ? 'created' : 'updated'} ${c.path}`).join(', ');
}
