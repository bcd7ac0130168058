// `uninstall`: takes out what install added (uninstall-plan.ts) as one transaction, with the same
// journal, restart, health watch and rollback as install; the payload directories go once it is
// committed (until then the kubelet may still run them), and the directories install created
// when they are empty.
import { posix } from 'node:path';
import { describeChanges } from './changes.ts';
import { renderChanges } from './dry-run.ts';
import { ProviderError } from '../errors.ts';
import { lockWaitMs, type RunContext } from './install.ts';
import { readJournal } from './journal.ts';
import { detectLayout, UNRECOGNISED } from './layouts/detect.ts';
import { withInstallerState } from './lock.ts';
import { MANIFEST_FILE, STATE_DIR } from './paths.ts';
import { readManifest } from './state.ts';
import { runTransaction } from './transaction.ts';
import { planUninstall } from './uninstall-plan.ts';

export async function runUninstall(ctx: RunContext): Promise<void> {
  const { fs } = ctx;
  if (readManifest(fs) === undefined && readJournal(fs) === undefined && !fs.exists(STATE_DIR)) return nothingInstalled(ctx);
  if (ctx.dryRun) {
    const manifest = readManifest(fs);
    if (manifest === undefined) return nothingInstalled(ctx);
    const plan = planUninstall(fs, manifest);
    await ctx.out(renderChanges(plan.changes, plan.restart, plan.warnings, plan.payloadDirs.map((d) => `then remove the payload ${d}`)));
    return;
  }
  await withInstallerState(ctx, lockWaitMs(ctx), async (stateDirs) => {
    const manifest = readManifest(fs);
    if (manifest === undefined) return nothingInstalled(ctx);
    const plan = planUninstall(fs, manifest);
    for (const w of plan.warnings) ctx.log('warn', w);
    const prune = [...new Set(plan.payloadDirs.map((d) => posix.dirname(d)))].map((base) => ({ base, keep: [] }));
    // The installed payload: pruned only once the uninstall is committed, so there during the health wait.
    const rescuePayload = manifest.payloads?.[0];
    await runTransaction(ctx, { operation: 'uninstall', changes: plan.changes, restart: plan.restart, removeDirs: manifest.createdDirs, prune, ...(rescuePayload ? { rescuePayload } : {}) });
    stateDirs.createdDirs.push(...manifest.createdDirs); // those the state directory kept busy go once it is gone
    ctx.log('info', `uninstalled: ${describeChanges(plan.changes) || 'nothing left to take out'}${plan.restart ? `; restarted ${plan.restart.unit}, healthy` : ''}`);
  });
}

/** No installer state: fine on a node, an error on a --host-root that is not one. */
function nothingInstalled(ctx: RunContext): void {
  try {
    detectLayout(ctx.fs, {});
  } catch (error) {
    if (error instanceof ProviderError && error.message === UNRECOGNISED) throw new ProviderError('config', `--host-root ${ctx.fs.root} does not look like a node: ${UNRECOGNISED}`);
  }
  ctx.log('info', `nothing to uninstall: no installer state at ${MANIFEST_FILE}`);
}
