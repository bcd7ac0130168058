// `install`: plan, then (unless --dry-run) wait this node's restart spread on a first install
// that restarts the kubelet, and apply the plan as one transaction with the manifest in it:
// journal, atomic writes, one restart, health watch, rollback when the kubelet does not come back.
import { posix } from 'node:path';
import { describeChanges } from './changes.ts';
import { renderChanges } from './dry-run.ts';
import { readJournal } from './journal.ts';
import { detectLayout } from './layouts/detect.ts';
import type { DetectOptions } from './layouts/types.ts';
import { withInstallerState } from './lock.ts';
import { STATE_DIR } from './paths.ts';
import { planInstall, type InstallInputs, type InstallPlan } from './plan.ts';
import { waitRestartSpread, type RestartSpread } from './restart-spread.ts';
import { smokeTest } from './smoke-test.ts';
import { manifestChange, nextManifest, readManifest } from './state.ts';
import { dirsToCreate, runTransaction, stoppedBeforeChanges, type TxContext } from './transaction.ts';

export interface RunContext extends TxContext {
  dryRun: boolean;
  out: (text: string) => Promise<void>;
  restartSpread?: RestartSpread; // first install only
}

export async function runInstall(ctx: RunContext, inputs: InstallInputs): Promise<void> {
  const { fs } = ctx;
  detectLayout(fs, inputs); // a host root that is no node fails here, before anything is created
  if (ctx.dryRun) {
    const plan = await planAndReport(ctx, inputs);
    const pending = readJournal(fs) ? ['an earlier run was interrupted: the next install finishes or rolls back its change first'] : [];
    await ctx.out(renderChanges(plan.changes, plan.restart, pending, payloadNotes(plan)));
    return;
  }
  await withInstallerState(ctx, lockWaitMs(ctx), async (stateDirs) => {
    let plan = await planAndReport(ctx, inputs);
    const firstInstall = readManifest(fs) === undefined;
    if (plan.restart && firstInstall && ctx.restartSpread && ctx.restartSpread.windowMs > 0) {
      await waitRestartSpread(ctx.restartSpread, (line) => ctx.log('info', line), ctx.signal);
      plan = await planInstall(fs, ctx.host, inputs); // the node may have changed meanwhile
    }
    if (ctx.signal?.aborted) throw stoppedBeforeChanges();
    if (plan.changes.length === 0 && plan.payload === undefined) {
      ctx.log('info', 'already installed: nothing to change, no restart');
      return;
    }
    // The state directory itself goes whenever nothing is installed; directories made above it are recorded.
    const createdDirs = [...stateDirs.createdDirs.filter((d) => d !== STATE_DIR && d !== posix.dirname(STATE_DIR)), ...dirsToCreate(fs, plan.changes, plan.payload)];
    const head = { layout: plan.layout.name, ...(plan.layout.unit ? { unit: plan.layout.unit } : {}), detect: detectOptions(inputs, plan) };
    const previous = readManifest(fs);
    const manifest = await nextManifest(fs, previous, head, plan.changes, plan.addedFlags, createdDirs);
    // The wrapper's directory and the one it named before (a kubelet call may still be opening it).
    manifest.payloads = [...new Set([plan.installDir, ...(previous?.payloads ?? []).slice(0, 1).filter((d) => fs.stat(d)?.isDirectory)])];
    const changed = plan.payload !== undefined || manifest.payloads.join() !== previous?.payloads?.join();
    const prune = changed ? [{ base: posix.dirname(plan.installDir), keep: manifest.payloads }] : [];
    await runTransaction(ctx, {
      operation: 'install',
      changes: [...plan.changes, manifestChange(fs, manifest)],
      restart: plan.restart,
      ...(plan.payload ? { payload: plan.payload } : {}),
      prune,
      smokeTest: (candidate) => smokeTest(ctx.host.runPlugin, candidate === undefined ? plan.smoke : { ...plan.smoke, candidate }),
    });
    const payload = plan.payload ? `installed ${plan.payload.dir} (${plan.source.manifest.files.length} files, ${plan.source.bytes} bytes), ` : '';
    ctx.log('info', `installed: ${payload}${describeChanges(plan.changes)}; the provider passed its smoke test${plan.restart ? `; restarted ${plan.restart.unit}, healthy` : '; no restart needed'}`);
  });
}

async function planAndReport(ctx: RunContext, inputs: InstallInputs): Promise<InstallPlan> {
  const plan = await planInstall(ctx.fs, ctx.host, inputs);
  for (const w of plan.warnings) ctx.log('warn', w);
  ctx.log('info', `layout ${plan.layout.name}, kubelet ${plan.version.text}, bin dir ${plan.binDir}, kubelet config ${plan.configPath}`);
  return plan;
}

function payloadNotes(plan: InstallPlan): string[] {
  if (plan.payload === undefined) return [`payload ${plan.installDir} already installed and intact`];
  const what = `${plan.payload.replace ? 'reinstall' : 'install'} payload ${plan.payload.dir} from ${plan.source.dir}: ${plan.source.manifest.files.length} files and manifest.json, ${plan.source.bytes} bytes`;
  return [what, `then: run ${[plan.smoke.executable, ...plan.smoke.args].join(' ')} as the kubelet would before changing anything of the kubelet`];
}

/** How to find this kubelet again on uninstall: the layout and paths this install used. */
function detectOptions(inputs: InstallInputs, plan: InstallPlan): DetectOptions {
  return {
    ...(plan.layout.name === 'manual' ? {} : { layout: plan.layout.name }),
    ...(plan.layout.unit ? { kubeletUnit: plan.layout.unit } : {}),
    ...(inputs.kubeletFlagsFile ? { kubeletFlagsFile: inputs.kubeletFlagsFile } : {}),
    ...(inputs.kubeletFlagsVar ? { kubeletFlagsVar: inputs.kubeletFlagsVar } : {}),
    binDir: plan.binDir,
    kubeletConfigFile: plan.configPath,
  };
}

/** A previous installer may be finishing its transaction: up to two health waits and restarts. */
export function lockWaitMs(ctx: TxContext): number {
  return 2 * ctx.health.timeoutMs + 60_000;
}
